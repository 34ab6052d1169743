// The serving stack's concurrency in one process, without the gRPC transport, so that
// ThreadSanitizer sees every access (scripts/test.sh runs it under TSan; Debian's gRPC is not
// instrumented). Rank and GetModelInfo callers, an operator polling and listing versions,
// a metrics collector and the manager's own watcher all run at once while a publisher adds
// versions: every call must succeed, the versions each caller sees must never go backwards,
// and the in-flight limit must come back to zero.
#include <grpcpp/server_context.h>
#include <gtest/gtest.h>

#include <atomic>
#include <fstream>
#include <mutex>
#include <thread>

#include "server/model_manager.h"
#include "server/ranker_service.h"
#include "server/server_metrics.h"
#include "server/stored_histories.h"
#include "tests/support/test_util.h"

namespace ranker {
namespace {

std::chrono::system_clock::time_point FarDeadline() {
  return std::chrono::system_clock::now() + std::chrono::seconds(30);
}

using ::ranker::testing::TempDir;

// Publishes from a separate ranker-store process, as in production: the test process then
// holds only the server's side (a RocksDB secondary). TSan reports in the publisher itself
// are switched off; they would be about RocksDB, which is not instrumented.
void PublishDemo(const std::string& path, uint64_t seed) {
  std::string out, err;
  ASSERT_EQ(testing::RunCommand({"/usr/bin/env", "TSAN_OPTIONS=report_bugs=0",
                                 testing::BinaryPath("model_store/ranker-store"), "demo",
                                 "--store=" + path, "--users=400", "--items=300", "--d=8",
                                 "--hidden=8", "--ratio=4", "--seed=" + std::to_string(seed)},
                                &out, &err),
            0)
      << err;
}

TEST(ServiceConcurrencyTest, CallersReloadsAndMetricsRunTogetherWithoutRaces) {
  TempDir dir;
  const std::string path = dir.Sub("store");
  PublishDemo(path, 1);
  auto store = SnapshotStore::OpenSecondary(path);
  ASSERT_TRUE(store.ok());
  ModelManagerOptions manager_options;
  manager_options.keep_versions = 2;
  ModelManager manager(*std::move(store), manager_options);
  ServerMetrics metrics;
  manager.SetListener([&](const ReloadEvent& event) {
    metrics.OnReload(event, manager.Loaded(), manager.Current().get());
  });
  manager.Poll();
  manager.StartWatcher(absl::Milliseconds(5));

  RankLimits limits;
  limits.max_concurrent = 64;
  RankerService ranker(&manager, limits, &metrics);

  std::atomic<bool> stop{false};
  std::atomic<int> failures{0}, calls{0}, went_backwards{0};
  std::mutex error_mu;
  std::string first_error;
  std::vector<std::thread> threads;
  threads.reserve(6);
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      uint64_t last_version = 0;
      for (uint64_t i = 0; !stop; ++i) {
        v1::RankRequest request;
        request.set_user_id(i * 7 + t);
        request.set_k(5);
        if (i % 3 == 0) {
          for (uint64_t c = 0; c < 20; ++c) request.add_candidate_ids((i + c * 13) % 350);
        }
        v1::RankResponse response;
        const grpc::Status status = ranker.RankBefore(FarDeadline(), request, &response);
        if (!status.ok()) {
          ++failures;
          std::lock_guard lock(error_mu);
          first_error = status.error_message();
        }
        if (response.model_version() < last_version) ++went_backwards;
        last_version = response.model_version();
        ++calls;
        if (i % 10 == 0) {
          v1::ModelInfo info;
          if (!ranker.DescribeRequested(v1::GetModelInfoRequest(), &info).ok()) ++failures;
        }
      }
    });
  }
  threads.emplace_back([&] {  // an operator: what the admin service's Reload and List do
    while (!stop) {
      manager.Poll();  // races the watcher's polls: one of them loads, the other sees no change
      for (const LoadedVersion& loaded : manager.Loaded()) {
        if (loaded.resident_bytes == 0) ++failures;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(3));
    }
  });
  threads.emplace_back([&] {  // a Prometheus scrape loop
    while (!stop) {
      for (const auto& collectable : metrics.collectables()) collectable->Collect();
      std::this_thread::sleep_for(std::chrono::milliseconds(2));
    }
  });

  for (uint64_t seed = 2; seed <= 6; ++seed) {
    PublishDemo(path, seed);
    std::this_thread::sleep_for(std::chrono::milliseconds(60));
  }
  for (int i = 0; i < 200 && (manager.Current() == nullptr || manager.Current()->version() != 6);
       ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  stop = true;
  for (auto& thread : threads) thread.join();
  manager.StopWatcher();

  ASSERT_NE(manager.Current(), nullptr);
  EXPECT_EQ(manager.Current()->version(), 6u);
  EXPECT_GT(calls.load(), 0);
  EXPECT_EQ(failures.load(), 0) << first_error;
  EXPECT_EQ(went_backwards.load(), 0);
  EXPECT_LE(manager.Loaded().size(), 2u);
}

// Stored histories are read by request threads while the watcher catches their reader up and a
// separate process appends to them: every call succeeds, stored users are ranked by their
// history, and a user added meanwhile is seen.
TEST(ServiceConcurrencyTest, StoredHistoriesAreReadWhileAppendedAndCaughtUp) {
  TempDir dir;
  const std::string path = dir.Sub("store");
  std::string out, err;
  ASSERT_EQ(testing::RunCommand({"/usr/bin/env", "TSAN_OPTIONS=report_bugs=0",
                                 testing::BinaryPath("model_store/ranker-store"), "demo",
                                 "--store=" + path, "--user_mode=history", "--users=400",
                                 "--items=300", "--d=8", "--hidden=8", "--ratio=4"},
                                &out, &err),
            0)
      << err;
  StoredHistories histories(path, 1 << 20);
  ASSERT_TRUE(histories.Refresh().ok());
  auto store = SnapshotStore::OpenSecondary(path);
  ASSERT_TRUE(store.ok());
  ModelManagerOptions manager_options;
  manager_options.before_poll = [&histories] { (void)histories.Refresh(); };
  ModelManager manager(*std::move(store), manager_options);
  manager.Poll();
  manager.StartWatcher(absl::Milliseconds(5));
  ServerMetrics metrics;
  RankLimits limits;
  limits.max_concurrent = 64;
  RankerService ranker(&manager, limits, &metrics, &histories);

  std::atomic<bool> stop{false};
  std::atomic<int> failures{0}, not_stored{0}, calls{0};
  std::atomic<bool> new_user_seen{false};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (uint64_t i = 0; !stop; ++i) {
        v1::RankRequest request;
        const bool probe_new_user = i % 5 == 0;
        request.set_user_id(probe_new_user ? 5000 : (i * 7 + t) % 400);
        request.set_k(5);
        v1::RankResponse response;
        if (!ranker.RankBefore(FarDeadline(), request, &response).ok()) ++failures;
        const bool stored = response.history_source() == v1::HISTORY_SOURCE_STORED;
        if (probe_new_user) {
          if (stored) new_user_seen = true;
        } else if (!stored) {
          ++not_stored;
        }
        ++calls;
      }
    });
  }
  for (int round = 0; round < 3; ++round) {
    const std::string log = dir.Sub("log" + std::to_string(round) + ".csv");
    std::ofstream(log) << "user,item\n5000," << (10 + round) << "\n7," << (20 + round) << "\n";
    ASSERT_EQ(testing::RunCommand({"/usr/bin/env", "TSAN_OPTIONS=report_bugs=0",
                                   testing::BinaryPath("model_store/ranker-store"), "history",
                                   "import", log, "--store=" + path},
                                  &out, &err),
              0)
        << err;
  }
  for (int i = 0; i < 200 && !new_user_seen; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  stop = true;
  for (auto& thread : threads) thread.join();
  manager.StopWatcher();
  manager.Poll();  // catches the histories up with every import

  EXPECT_GT(calls.load(), 0);
  EXPECT_EQ(failures.load(), 0);
  EXPECT_EQ(not_stored.load(), 0);
  EXPECT_TRUE(new_user_seen.load());
  std::vector<uint64_t> items;
  ASSERT_EQ(histories.Read(5000, &items), HistoryLookup::kFound);
  EXPECT_EQ(items, (std::vector<uint64_t>{10, 11, 12}));
}

}  // namespace
}  // namespace ranker
