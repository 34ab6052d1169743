// Hot reload under load: the real server follows a store while a publisher writes good,
// corrupt and partial versions, and clients never see a failed call or a version go backwards.
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>

#include <atomic>
#include <fstream>
#include <mutex>
#include <set>
#include <thread>

#include "absl/strings/str_cat.h"
#include "model/demo_model.h"
#include "model_store/snapshot_store.h"
#include "tests/support/server_fixture.h"

namespace ranker {
namespace {

using ::ranker::testing::BinaryPath;
using ::ranker::testing::MetricValue;
using ::ranker::testing::RunCommand;
using ::ranker::testing::RunningServer;
using ::ranker::testing::TempDir;

DemoModelOptions ModelOptions(uint64_t seed) {
  DemoModelOptions options;
  options.users = 20000;
  options.items = 5000;
  options.d = 32;
  options.hidden = {64, 32};
  options.ratio = 8;
  options.seed = seed;
  return options;
}

uint64_t Publish(const std::string& store_path, uint64_t version, bool corrupt = false) {
  StoreOptions create;
  create.create_if_missing = true;
  auto store = SnapshotStore::OpenPrimary(store_path, create);
  EXPECT_TRUE(store.ok()) << store.status();
  Snapshot snapshot = *MakeDemoSnapshot(ModelOptions(version));
  PublishOptions publish;
  publish.version = version;
  if (corrupt) {
    publish.chunk_hook = [](const std::string& tensor, uint32_t chunk, std::string* bytes) {
      if (tensor == "item/weight" && chunk == 0) (*bytes)[bytes->size() / 3] ^= 0x40;
    };
  }
  auto published = (*store)->Publish(snapshot, publish);
  EXPECT_TRUE(published.ok()) << published.status();
  return published.ok() ? *published : 0;
}

// Clients that call Rank in a loop and record every response's version.
class LoadClients {
 public:
  // `seen_` is sized before any thread starts: each thread holds a reference
  // to its own entry, which a later reallocation would invalidate.
  LoadClients(const std::string& target, int threads) : seen_(threads) {
    for (int t = 0; t < threads; ++t) {
      threads_.emplace_back([this, target, t] { Run(target, t); });
    }
  }
  ~LoadClients() { Stop(); }

  void Stop() {
    stop_ = true;
    for (auto& thread : threads_) {
      if (thread.joinable()) thread.join();
    }
  }
  uint64_t max_version() const { return max_version_.load(); }
  uint64_t calls() const { return calls_.load(); }
  uint64_t failures() const { return failures_.load(); }
  std::string first_failure() {
    std::lock_guard<std::mutex> lock(mu_);
    return first_failure_;
  }
  // Versions each client saw, in order of its calls (run-length compressed).
  const std::vector<std::vector<uint64_t>>& seen() const { return seen_; }

 private:
  void Run(const std::string& target, int index) {
    auto stub =
        v1::Ranker::NewStub(grpc::CreateChannel(target, grpc::InsecureChannelCredentials()));
    std::vector<uint64_t>& seen = seen_[index];
    for (uint64_t i = 0; !stop_; ++i) {
      v1::RankRequest request;
      request.set_user_id(i % 20000);
      request.set_k(10);
      if (i % 4 != 0) {
        for (uint64_t c = 0; c < 100; ++c) request.add_candidate_ids((i * 31 + c * 7) % 5000);
      }
      grpc::ClientContext context;
      context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
      v1::RankResponse response;
      grpc::Status status = stub->Rank(&context, request, &response);
      ++calls_;
      if (!status.ok()) {
        ++failures_;
        std::lock_guard<std::mutex> lock(mu_);
        if (first_failure_.empty()) first_failure_ = status.error_message();
        continue;
      }
      if (seen.empty() || seen.back() != response.model_version()) {
        seen.push_back(response.model_version());
      }
      uint64_t current = max_version_.load();
      while (response.model_version() > current &&
             !max_version_.compare_exchange_weak(current, response.model_version())) {
      }
    }
  }

  std::atomic<bool> stop_{false};
  std::atomic<uint64_t> max_version_{0}, calls_{0}, failures_{0};
  std::mutex mu_;
  std::string first_failure_;
  std::vector<std::vector<uint64_t>> seen_;
  std::vector<std::thread> threads_;
};

// Waits until `condition` holds, polling; false after `timeout`.
template <typename Condition>
bool WaitFor(Condition condition, absl::Duration timeout) {
  const absl::Time deadline = absl::Now() + timeout;
  while (absl::Now() < deadline) {
    if (condition()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  return condition();
}

TEST(ReloadIntegrationTest, ZeroFailedCallsWhileGoodCorruptAndPartialVersionsArrive) {
  TempDir dir;
  const std::string store = dir.Sub("store");
  Publish(store, 1);
  const double poll_seconds = 0.2;
  RunningServer server(store, {"--poll_interval=200ms"});
  ASSERT_TRUE(server.ok());
  LoadClients clients(server.target(), 3);
  ASSERT_TRUE(WaitFor([&] { return clients.max_version() == 1; }, absl::Seconds(30)));

  const auto serve_within_bound = [&](uint64_t version) {
    const absl::Time published = absl::Now();
    ASSERT_TRUE(WaitFor([&] { return clients.max_version() >= version; }, absl::Seconds(60)))
        << "version " << version << " never served";
    const double delay = absl::ToDoubleSeconds(absl::Now() - published);
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
    v1::ModelInfo info;
    ASSERT_TRUE(server.Ranker()->GetModelInfo(&context, v1::GetModelInfoRequest(), &info).ok());
    EXPECT_EQ(info.version(), version);
    // Poll interval + load time, plus scheduling slack on a shared 2-core machine.
    EXPECT_LT(delay, poll_seconds + info.load_seconds() + 1.0) << "version " << version;
  };

  Publish(store, 2);
  serve_within_bound(2);
  Publish(store, 3);
  serve_within_bound(3);

  Publish(store, 4, /*corrupt=*/true);
  ASSERT_TRUE(WaitFor(
      [&] {
        return MetricValue(server.ScrapeMetrics(),
                           "ranker_model_reloads_total{result=\"failure\"}") == 1;
      },
      absl::Seconds(60)));

  Publish(store, 5);
  serve_within_bound(5);

  // A publisher killed before its final batch: all chunks of version 6 are written, no manifest.
  std::string out, err;
  EXPECT_EQ(RunCommand({BinaryPath("model_store/ranker-store"), "demo", "--store=" + store,
                        "--users=20000", "--items=5000", "--d=32", "--hidden=64,32", "--ratio=8",
                        "--version=6", "--crash_before_commit"},
                       &out, &err),
            3)
      << err;
  Publish(store, 7);
  serve_within_bound(7);
  Publish(store, 8);
  serve_within_bound(8);
  clients.Stop();

  // Load really ran throughout (a sanitizer build makes far fewer calls than a release one).
  EXPECT_GT(clients.calls(), 30u);
  EXPECT_EQ(clients.failures(), 0u) << clients.first_failure();
  const std::set<uint64_t> complete = {1, 2, 3, 5, 7, 8};
  for (const std::vector<uint64_t>& seen : clients.seen()) {
    for (size_t i = 0; i < seen.size(); ++i) {
      EXPECT_TRUE(complete.count(seen[i])) << "served version " << seen[i];
      if (i > 0) {
        EXPECT_GT(seen[i], seen[i - 1]) << "a client saw versions go backwards";
      }
    }
  }
  const std::string metrics = server.ScrapeMetrics();
  EXPECT_EQ(MetricValue(metrics, "ranker_model_reloads_total{result=\"success\"}"), 6);
  EXPECT_EQ(MetricValue(metrics, "ranker_model_reloads_total{result=\"failure\"}"), 1);
  EXPECT_EQ(MetricValue(metrics, "ranker_model_version"), 8);
  EXPECT_NE(server.process().Stderr().find("model version 4 rejected, keeping version 3"),
            std::string::npos);
}

// Resident set size of a process, in bytes, from /proc.
double ResidentBytes(pid_t pid) {
  std::ifstream status(absl::StrCat("/proc/", pid, "/status"));
  std::string key;
  while (status >> key) {
    if (key == "VmRSS:") {
      double kib = 0;
      status >> kib;
      return kib * 1024;
    }
    status.ignore(1 << 16, '\n');
  }
  return 0;
}

TEST(ReloadMemoryTest, ResidentSetReturnsToSteadyAfterTwentyReloads) {
  TempDir dir;
  const std::string store = dir.Sub("store");
  const auto publish_full = [&](uint64_t version) {
    StoreOptions create;
    create.create_if_missing = true;
    auto primary = SnapshotStore::OpenPrimary(store, create);
    ASSERT_TRUE(primary.ok());
    DemoModelOptions options;
    options.users = 200000;
    options.items = 20000;
    options.d = 32;
    options.kind = snapshot::FULL;
    options.hidden = {64, 32};
    options.seed = version;
    Snapshot snapshot = *MakeDemoSnapshot(options);
    PublishOptions publish;
    publish.version = version;
    ASSERT_TRUE((*primary)->Publish(snapshot, publish).ok());
    ASSERT_TRUE((*primary)->CollectGarbage(2).ok());
  };
  publish_full(1);
  RunningServer server(store, {"--poll_interval=100ms"});
  ASSERT_TRUE(server.ok());
  LoadClients clients(server.target(), 2);
  ASSERT_TRUE(WaitFor([&] { return clients.calls() > 200; }, absl::Seconds(30)));

  auto store_reader = SnapshotStore::OpenSecondary(store);
  ASSERT_TRUE(store_reader.ok());
  const auto manifest_bytes = [&](uint64_t version) {
    EXPECT_TRUE((*store_reader)->CatchUp().ok());
    absl::StatusOr<Manifest> manifest = (*store_reader)->ReadManifest(version);
    double bytes = 0;
    if (!manifest.ok()) return bytes;
    for (const TensorSpec& t : manifest->tensors()) bytes += static_cast<double>(t.byte_size());
    return bytes;
  };
  const auto memory_metric_sum = [&]() {
    const std::string m = server.ScrapeMetrics();
    double sum = 0;
    for (const char* table : {"user", "item", "mlp"}) {
      const double v = MetricValue(
          m, absl::StrCat("ranker_model_memory_bytes{model=\"default\",table=\"", table,
                          "\",version=\"", MetricValue(m, "ranker_model_version"), "\"}"));
      sum += v > 0 ? v : 0;
    }
    return sum;
  };
  EXPECT_EQ(memory_metric_sum(), manifest_bytes(1));
  const double steady = ResidentBytes(server.process().pid());

  for (uint64_t version = 2; version <= 21; ++version) {
    publish_full(version);
    ASSERT_TRUE(WaitFor([&] { return clients.max_version() >= version; }, absl::Seconds(60)))
        << version << "\n"
        << server.process().Stderr();
  }
  // Old models are freed by the reaper, asynchronously: wait for the memory gauge to show a
  // single version before reading the resident set.
  ASSERT_TRUE(
      WaitFor([&] { return memory_metric_sum() == manifest_bytes(21); }, absl::Seconds(30)));
  ASSERT_TRUE(WaitFor(
      [&] {
        return MetricValue(
                   server.ScrapeMetrics(),
                   "ranker_model_memory_bytes{model=\"default\",table=\"user\",version=\"20\"}") <
               0;
      },
      absl::Seconds(30)));
  clients.Stop();
  EXPECT_EQ(clients.failures(), 0u) << clients.first_failure();
  const double after = ResidentBytes(server.process().pid());
  RecordProperty("steady_rss_bytes", std::to_string(steady));
  RecordProperty("after_20_reloads_rss_bytes", std::to_string(after));
  std::printf("resident set: steady %.1f MiB, after 20 reloads %.1f MiB (model %.1f MiB)\n",
              steady / (1 << 20), after / (1 << 20), manifest_bytes(21) / (1 << 20));
  EXPECT_LT(std::abs(after - steady), 0.10 * steady);
}

}  // namespace
}  // namespace ranker
