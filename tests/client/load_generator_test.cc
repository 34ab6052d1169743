// RunLoad against a real in-process gRPC server (127.0.0.1, port 0) with a fake Ranker that
// fails every 4th call and checks what it receives; every test runs with both client APIs
// (asynchronous on one and on two threads, synchronous).
#include "client/load_generator.h"

#include <grpcpp/grpcpp.h>
#include <grpcpp/health_check_service_interface.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <memory>
#include <mutex>
#include <set>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "proto/ranker.grpc.pb.h"

namespace ranker {
namespace {

// Fails every kFailEvery-th call with RESOURCE_EXHAUSTED and records what the requests held.
class FakeRanker final : public v1::Ranker::Service {
 public:
  static constexpr uint64_t kFailEvery = 4;

  grpc::Status Rank(grpc::ServerContext*, const v1::RankRequest* request,
                    v1::RankResponse* response) override {
    const int in_flight = in_flight_.fetch_add(1) + 1;
    int most = most_in_flight_.load();
    while (in_flight > most && !most_in_flight_.compare_exchange_weak(most, in_flight)) {
    }
    if (delay_ > absl::ZeroDuration()) absl::SleepFor(delay_);
    in_flight_.fetch_sub(1);
    {
      std::lock_guard<std::mutex> lock(mu_);
      ks_.insert(request->k());
      candidate_counts_.insert(request->candidate_ids_size());
      user_ids_.insert(request->user_id());
      for (uint64_t id : request->candidate_ids()) max_item_id_ = std::max(max_item_id_, id);
    }
    if ((calls_.fetch_add(1) + 1) % kFailEvery == 0) {
      failed_.fetch_add(1);
      return grpc::Status(grpc::StatusCode::RESOURCE_EXHAUSTED, "busy");
    }
    response->set_model_version(1);
    response->add_items()->set_item_id(request->candidate_ids_size() > 0 ? request->candidate_ids(0)
                                                                         : 0);
    succeeded_.fetch_add(1);
    return grpc::Status::OK;
  }

  void set_delay(absl::Duration delay) { delay_ = delay; }
  int most_in_flight() const { return most_in_flight_.load(); }
  uint64_t calls() const { return calls_.load(); }
  uint64_t succeeded() const { return succeeded_.load(); }
  uint64_t failed() const { return failed_.load(); }
  std::set<uint32_t> ks() const {
    std::lock_guard<std::mutex> lock(mu_);
    return ks_;
  }
  std::set<int> candidate_counts() const {
    std::lock_guard<std::mutex> lock(mu_);
    return candidate_counts_;
  }
  std::set<uint64_t> user_ids() const {
    std::lock_guard<std::mutex> lock(mu_);
    return user_ids_;
  }
  uint64_t max_item_id() const {
    std::lock_guard<std::mutex> lock(mu_);
    return max_item_id_;
  }

 private:
  std::atomic<uint64_t> calls_{0}, succeeded_{0}, failed_{0};
  std::atomic<int> in_flight_{0}, most_in_flight_{0};
  absl::Duration delay_;
  mutable std::mutex mu_;
  std::set<uint32_t> ks_;
  std::set<int> candidate_counts_;
  std::set<uint64_t> user_ids_;
  uint64_t max_item_id_ = 0;
};

struct ClientApi {
  std::string api;
  int threads;
};

class LoadGeneratorTest : public ::testing::TestWithParam<ClientApi> {
 protected:
  void SetUp() override {
    grpc::EnableDefaultHealthCheckService(true);  // serves the "empty" RPC
    grpc::ServerBuilder builder;
    builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(), &port_);
    builder.RegisterService(&ranker_);
    server_ = builder.BuildAndStart();
    ASSERT_NE(server_, nullptr);
    ASSERT_GT(port_, 0);
  }
  void TearDown() override {
    if (server_) server_->Shutdown();
  }

  LoadGeneratorOptions Options() const {
    LoadGeneratorOptions options;
    options.target = absl::StrCat("127.0.0.1:", port_);
    options.concurrency = 3;
    options.channels = 2;
    options.duration = absl::Milliseconds(300);
    options.warmup = absl::ZeroDuration();
    options.report_interval = absl::Milliseconds(200);  // the last window is 100 ms
    options.api = GetParam().api;
    options.client_threads = GetParam().threads;
    return options;
  }

  static uint64_t ErrorCount(const LoadResult& result) {
    uint64_t total = 0;
    for (const auto& [code, n] : result.errors) total += n;
    return total;
  }

  int port_ = 0;
  FakeRanker ranker_;
  std::unique_ptr<grpc::Server> server_;
};

TEST_P(LoadGeneratorTest, ReportsEveryCallTheServerAnswered) {
  LoadGeneratorOptions options = Options();
  options.k = 7;
  options.candidates = 13;
  options.users = 50;
  options.items = 40;
  std::vector<IntervalReport> seen;
  const LoadResult result =
      RunLoad(options, [&seen](const IntervalReport& r) { seen.push_back(r); });

  // Without warm-up every call is measured: successes are the latency samples, failures are
  // counted under their code's name, and nothing else happened.
  ASSERT_GT(ranker_.succeeded(), 0u);
  ASSERT_GT(ranker_.failed(), 0u);
  EXPECT_EQ(ranker_.failed(), ranker_.calls() / FakeRanker::kFailEvery);
  EXPECT_EQ(result.calls, ranker_.succeeded());
  EXPECT_EQ(result.latency.total, result.calls);
  EXPECT_EQ(result.errors.size(), 1u);
  EXPECT_EQ(result.errors.count("RESOURCE_EXHAUSTED") ? result.errors.at("RESOURCE_EXHAUSTED") : 0,
            ranker_.failed());

  EXPECT_DOUBLE_EQ(result.seconds, 0.3);
  EXPECT_GT(result.qps, 0);
  EXPECT_DOUBLE_EQ(result.qps, static_cast<double>(result.calls) / 0.3);
  const uint64_t p50 = result.latency.Quantile(0.5), p99 = result.latency.Quantile(0.99),
                 max = result.latency.Quantile(1.0);
  EXPECT_GT(p50, 0u);
  EXPECT_LE(p50, p99);
  EXPECT_LE(p99, max);

  // Requests carry the configured k and candidate count, ids within the configured ranges.
  EXPECT_EQ(ranker_.ks(), std::set<uint32_t>{7});
  EXPECT_EQ(ranker_.candidate_counts(), std::set<int>{13});
  const std::set<uint64_t> users = ranker_.user_ids();
  EXPECT_LT(*users.rbegin(), 50u);
  EXPECT_GT(users.size(), 1u) << "user ids should vary";
  EXPECT_LT(ranker_.max_item_id(), 40u);

  // Progress reports: one per interval, the last one cut short at the end of the run. Each
  // report's rate times its window is the calls in it, and the windows add up to every call
  // except those still in flight at the end (at most one per worker).
  ASSERT_EQ(result.intervals.size(), 2u);
  ASSERT_EQ(seen.size(), 2u);
  EXPECT_NEAR(result.intervals[0].elapsed_seconds, 0.2, 1e-9);
  EXPECT_NEAR(result.intervals[1].elapsed_seconds, 0.3, 1e-9);
  double windowed_calls = 0;
  uint64_t windowed_errors = 0;
  double previous = 0;
  for (const IntervalReport& r : result.intervals) {
    const double calls = r.qps * (r.elapsed_seconds - previous);
    EXPECT_NEAR(calls, std::round(calls), 1e-6) << "not a whole number of calls";
    windowed_calls += std::round(calls);
    windowed_errors += r.errors;
    previous = r.elapsed_seconds;
    EXPECT_LE(r.p50_ns, r.p99_ns);
    EXPECT_LE(r.p99_ns, r.max_ns);
  }
  EXPECT_EQ(seen[1].qps, result.intervals[1].qps);
  EXPECT_LE(windowed_calls, static_cast<double>(result.calls));
  EXPECT_GE(windowed_calls + options.concurrency, static_cast<double>(result.calls));
  EXPECT_LE(windowed_errors, ErrorCount(result));
  EXPECT_GE(windowed_errors + static_cast<uint64_t>(options.concurrency), ErrorCount(result));
}

TEST_P(LoadGeneratorTest, WarmupCallsAreMadeButNotReported) {
  LoadGeneratorOptions options = Options();
  options.warmup = absl::Milliseconds(100);
  options.duration = absl::Milliseconds(200);
  options.report_interval = absl::ZeroDuration();
  options.candidates = 0;  // the whole catalogue: no candidate ids on the wire
  options.users = 1;
  const LoadResult result = RunLoad(options, nullptr);

  EXPECT_TRUE(result.intervals.empty());
  EXPECT_GT(result.calls, 0u);
  EXPECT_LE(result.calls, ranker_.succeeded());
  EXPECT_LE(ErrorCount(result), ranker_.failed());
  // Each worker's first call starts at once, well inside the 100 ms warm-up.
  EXPECT_GE(ranker_.calls() - result.calls - ErrorCount(result),
            static_cast<uint64_t>(options.concurrency));
  EXPECT_DOUBLE_EQ(result.qps, static_cast<double>(result.calls) / 0.2);
  EXPECT_EQ(ranker_.candidate_counts(), std::set<int>{0});
  EXPECT_EQ(ranker_.user_ids(), std::set<uint64_t>{0});
}

TEST_P(LoadGeneratorTest, EmptyRpcCallsTheHealthCheckOnly) {
  LoadGeneratorOptions options = Options();
  options.rpc = "empty";
  options.duration = absl::Milliseconds(150);
  options.report_interval = absl::ZeroDuration();
  const LoadResult result = RunLoad(options, nullptr);
  EXPECT_GT(result.calls, 0u);
  EXPECT_TRUE(result.errors.empty());
  EXPECT_EQ(ranker_.calls(), 0u);
}

TEST_P(LoadGeneratorTest, KeepsConcurrencyCallsInFlight) {
  ranker_.set_delay(absl::Milliseconds(3));
  LoadGeneratorOptions options = Options();
  options.concurrency = 5;
  options.report_interval = absl::ZeroDuration();
  const LoadResult result = RunLoad(options, nullptr);
  EXPECT_GT(result.calls, 0u);
  EXPECT_EQ(ranker_.most_in_flight(), 5);
}

INSTANTIATE_TEST_SUITE_P(Apis, LoadGeneratorTest,
                         ::testing::Values(ClientApi{"async", 1}, ClientApi{"async", 2},
                                           ClientApi{"sync", 0}),
                         [](const ::testing::TestParamInfo<ClientApi>& param_info) {
                           return param_info.param.api + std::to_string(param_info.param.threads);
                         });

TEST(LoadGeneratorOptionsTest, BadOptionsAreNamed) {
  LoadGeneratorOptions options;
  EXPECT_EQ(CheckLoadOptions(options), "");
  options.api = "callback";
  EXPECT_EQ(CheckLoadOptions(options), "--client_api must be async or sync");
  options.api = "async";
  options.client_threads = 0;
  EXPECT_EQ(CheckLoadOptions(options), "--client_threads must be at least 1");
  options.client_threads = 4;
  options.concurrency = 3;
  EXPECT_EQ(ClientThreads(options), 3) << "never more threads than calls in flight";
  options.api = "sync";
  EXPECT_EQ(ClientThreads(options), 3);
  options.rpc = "rankk";
  EXPECT_EQ(CheckLoadOptions(options), "--rpc must be rank or empty");
}

TEST(LoadGeneratorNoServerTest, BadTlsFilesAreReportedNotCrashed) {
  LoadGeneratorOptions options;
  options.target = "127.0.0.1:1";
  options.tls.ca = "/nonexistent/ca.pem";
  options.duration = absl::Milliseconds(50);
  const LoadResult result = RunLoad(options, nullptr);
  EXPECT_EQ(result.calls, 0u);
  ASSERT_EQ(result.errors.size(), 1u);
  EXPECT_NE(result.errors.begin()->first.find("ca.pem"), std::string::npos)
      << result.errors.begin()->first;
}

}  // namespace
}  // namespace ranker
