#include "client/load_generator.h"

#include <grpcpp/grpcpp.h>

#include <array>
#include <atomic>
#include <chrono>
#include <memory>
#include <random>
#include <thread>

#include "common/grpc_status_names.h"
#include "proto/grpc_health.grpc.pb.h"
#include "proto/ranker.grpc.pb.h"

namespace ranker {
namespace {

constexpr int kCodes = kGrpcStatusCodeCount;
constexpr size_t kRequestPool = 256;  // pre-built requests per worker: no client-side building

struct Worker {
  LatencyHistogram latency;
  std::array<std::atomic<uint64_t>, kCodes> errors{};
  std::atomic<uint64_t> warmup_calls{0};
};

std::vector<v1::RankRequest> MakeRequests(const LoadGeneratorOptions& options, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::vector<v1::RankRequest> requests(kRequestPool);
  for (v1::RankRequest& request : requests) {
    request.set_user_id(rng() % std::max<uint64_t>(1, options.users));
    request.set_k(options.k);
    request.set_retrieve_n(options.retrieve_n);
    for (int c = 0; c < options.candidates; ++c) {
      request.add_candidate_ids(rng() % std::max<uint64_t>(1, options.items));
    }
  }
  return requests;
}

void RunWorker(const LoadGeneratorOptions& options, const std::shared_ptr<grpc::Channel>& channel,
               uint64_t seed, std::chrono::steady_clock::time_point measure_from,
               std::chrono::steady_clock::time_point stop_at, Worker* worker) {
  auto ranker = v1::Ranker::NewStub(channel);
  auto health = grpc::health::v1::Health::NewStub(channel);
  const std::vector<v1::RankRequest> requests = MakeRequests(options, seed);
  grpc::health::v1::HealthCheckRequest health_request;
  grpc::health::v1::HealthCheckResponse health_response;
  v1::RankResponse response;
  const bool empty = options.rpc == "empty";
  for (size_t i = 0;; ++i) {
    const auto start = std::chrono::steady_clock::now();
    if (start >= stop_at) return;
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() +
                         absl::ToChronoMilliseconds(options.deadline));
    grpc::Status status = empty ? health->Check(&context, health_request, &health_response)
                                : ranker->Rank(&context, requests[i % kRequestPool], &response);
    const auto end = std::chrono::steady_clock::now();
    if (start < measure_from) {
      worker->warmup_calls.fetch_add(1, std::memory_order_relaxed);
      continue;
    }
    if (status.ok()) {
      worker->latency.Record(
          std::chrono::duration_cast<std::chrono::nanoseconds>(end - start).count());
    } else {
      worker->errors[static_cast<int>(status.error_code()) % kCodes].fetch_add(
          1, std::memory_order_relaxed);
    }
  }
}

}  // namespace

LoadResult RunLoad(const LoadGeneratorOptions& options,
                   const std::function<void(const IntervalReport&)>& on_interval) {
  absl::StatusOr<std::shared_ptr<grpc::ChannelCredentials>> credentials =
      MakeChannelCredentials(options.tls);
  if (!credentials.ok()) {  // the caller checks the TLS files first; report rather than crash
    LoadResult failed;
    failed.errors[std::string(credentials.status().message())] = 1;
    return failed;
  }
  std::vector<std::shared_ptr<grpc::Channel>> channels;
  for (int c = 0; c < std::max(1, options.channels); ++c) {
    grpc::ChannelArguments args;
    args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);  // a separate connection per channel
    args.SetInt("ranker.channel_index", c);
    channels.push_back(OpenChannel(options.target, *credentials, options.tls, std::move(args)));
  }
  const auto begin = std::chrono::steady_clock::now();
  const auto measure_from = begin + absl::ToChronoNanoseconds(options.warmup);
  const auto stop_at = measure_from + absl::ToChronoNanoseconds(options.duration);

  std::vector<std::unique_ptr<Worker>> workers;
  std::vector<std::thread> threads;
  for (int w = 0; w < options.concurrency; ++w) {
    workers.push_back(std::make_unique<Worker>());
    threads.emplace_back(RunWorker, std::cref(options), channels[w % channels.size()],
                         options.seed * 1000 + w, measure_from, stop_at, workers.back().get());
  }

  LoadResult result;
  const auto read_all = [&](uint64_t* errors) {
    LatencyHistogram::Counts sum;
    *errors = 0;
    for (const auto& worker : workers) {
      sum.Add(worker->latency.Read());
      for (const auto& e : worker->errors) *errors += e.load(std::memory_order_relaxed);
    }
    return sum;
  };
  if (options.report_interval > absl::ZeroDuration()) {
    std::this_thread::sleep_until(measure_from);
    LatencyHistogram::Counts previous;
    uint64_t previous_errors = 0;
    auto tick = measure_from;
    while (tick < stop_at) {
      const auto window_start = tick;
      tick = std::min(stop_at, tick + absl::ToChronoNanoseconds(options.report_interval));
      std::this_thread::sleep_until(tick);
      uint64_t errors = 0;
      LatencyHistogram::Counts now = read_all(&errors);
      LatencyHistogram::Counts window = now.Minus(previous);
      // The last window ends at stop_at and may be shorter than report_interval.
      const double window_seconds = std::chrono::duration<double>(tick - window_start).count();
      IntervalReport report{std::chrono::duration<double>(tick - measure_from).count(),
                            static_cast<double>(window.total) / window_seconds,
                            errors - previous_errors,
                            window.Quantile(0.5),
                            window.Quantile(0.99),
                            window.Quantile(1.0)};
      result.intervals.push_back(report);
      if (on_interval) on_interval(report);
      previous = std::move(now);
      previous_errors = errors;
    }
  }
  for (auto& thread : threads) thread.join();

  result.seconds = absl::ToDoubleSeconds(options.duration);
  for (const auto& worker : workers) {
    result.latency.Add(worker->latency.Read());
    for (int c = 0; c < kCodes; ++c) {
      const uint64_t n = worker->errors[c].load();
      if (n > 0) result.errors[StatusCodeName(static_cast<grpc::StatusCode>(c))] += n;
    }
  }
  result.calls = result.latency.total;
  result.qps = static_cast<double>(result.calls) / result.seconds;
  return result;
}

}  // namespace ranker
