// Crash safety of publishing: a real `ranker-store demo` process is killed with SIGKILL at
// seeded random points from its start to past its end, over and over, while a real server
// follows the store under load. After every kill the store must open, `latest` must name a
// version that loads completely (every chunk, every checksum), and the server must never have
// tried to load a partial version.
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>
#include <signal.h>

#include <atomic>
#include <random>
#include <thread>

#include "model_store/model_loader.h"
#include "model_store/snapshot_store.h"
#include "tests/support/server_fixture.h"

namespace ranker {
namespace {

using ::ranker::testing::BinaryPath;
using ::ranker::testing::MetricValue;
using ::ranker::testing::RunningServer;
using ::ranker::testing::RunStoreTool;
using ::ranker::testing::Subprocess;
using ::ranker::testing::TempDir;

constexpr int kKills = 100;
constexpr uint32_t kSeed = 20261126;

std::vector<std::string> PublisherArgs(const std::string& store, int seed) {
  // ~6 MB of full fp32 tables in 64 KiB chunks: dozens of writes to land a kill between.
  return {BinaryPath("model_store/ranker-store"),
          "demo",
          "--store=" + store,
          "--users=30000",
          "--items=20000",
          "--d=32",
          "--kind=full",
          "--hidden=16",
          "--chunk_kib=64",
          "--seed=" + std::to_string(seed)};
}

// Rank calls from one thread until stopped; counts failures.
class Load {
 public:
  explicit Load(const std::string& target)
      : thread_([this, target] {
          auto stub =
              v1::Ranker::NewStub(grpc::CreateChannel(target, grpc::InsecureChannelCredentials()));
          v1::RankRequest request;
          request.set_k(5);
          while (!stop_) {
            grpc::ClientContext context;
            context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(30));
            v1::RankResponse response;
            request.set_user_id(calls_ % 1000);
            const grpc::Status status = stub->Rank(&context, request, &response);
            ++calls_;
            if (!status.ok()) {
              ++failures_;
              last_error_ = status.error_message();
            }
            std::this_thread::sleep_for(std::chrono::milliseconds(2));
          }
        }) {}
  ~Load() { Stop(); }
  void Stop() {
    stop_ = true;
    if (thread_.joinable()) thread_.join();
  }
  int calls() const { return calls_; }
  int failures() const { return failures_; }
  const std::string& last_error() const { return last_error_; }

 private:
  std::atomic<bool> stop_{false};
  std::atomic<int> calls_{0}, failures_{0};
  std::string last_error_;
  std::thread thread_;
};

TEST(PublisherKillTest, SigkillAtRandomPointsNeverExposesAPartialVersion) {
  TempDir dir;
  const std::string store = dir.Sub("store");
  RunStoreTool({"demo", "--store=" + store, "--users=30000", "--items=20000", "--d=32",
                "--kind=full", "--hidden=16", "--seed=1"});

  RunningServer server(store, {"--poll_interval=100ms", "--keep_versions=1"});
  ASSERT_TRUE(server.ok());
  Load load(server.target());

  // One uncut publish, with the server and load running, measures when the publisher starts
  // writing (it prints "publishing to" once it holds the store) and when it is done. Even kills
  // fall anywhere in [0, 1.2 x that run]. Odd kills aim at the writing itself: they wait for
  // "publishing to", then kill at a random point of the writing time, an estimate that shrinks
  // whenever an aimed kill finds the publish already done (one calibration run is no guide to
  // later ones: under a sanitizer the first run is far slower than the rest).
  const auto start = std::chrono::steady_clock::now();
  const auto ms_since = [](std::chrono::steady_clock::time_point from) {
    return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - from)
        .count();
  };
  const auto wait_for_writing = [](Subprocess& publisher, double limit_ms) {
    const auto begin = std::chrono::steady_clock::now();
    while (publisher.Stdout().find("publishing to") == std::string::npos &&
           std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - begin)
                   .count() < limit_ms) {
      std::this_thread::sleep_for(std::chrono::microseconds(500));
    }
  };
  double writing_from_ms = 0;
  {
    Subprocess publisher(PublisherArgs(store, 2));
    wait_for_writing(publisher, 60000);
    writing_from_ms = ms_since(start);
    ASSERT_EQ(publisher.Wait(absl::Seconds(120)), 0) << publisher.Stderr();
  }
  const double run_ms = ms_since(start);
  double writing_estimate_ms = std::max(1.0, run_ms - writing_from_ms);

  std::mt19937 random(kSeed);
  std::uniform_real_distribution<double> anywhere_ms(0.0, 1.2 * run_ms);
  std::uniform_real_distribution<double> unit(0.0, 1.0);
  uint64_t latest_before = 2;
  int killed_before_commit = 0, killed_while_writing = 0, killed_after_commit = 0,
      finished_before_kill = 0;
  for (int i = 0; i < kKills; ++i) {
    const bool aimed = i % 2 == 1;
    Subprocess publisher(PublisherArgs(store, 100 + i));
    double delay = 0;
    if (aimed) {
      wait_for_writing(publisher, 60000);
      delay = unit(random) * writing_estimate_ms;
    } else {
      delay = anywhere_ms(random);
    }
    std::this_thread::sleep_for(std::chrono::microseconds(static_cast<int64_t>(delay * 1000)));
    publisher.Signal(SIGKILL);
    const int exit_code = publisher.Wait(absl::Seconds(60));
    ASSERT_TRUE(exit_code == 0 || exit_code == 128 + SIGKILL)
        << "publisher exit " << exit_code << ": " << publisher.Stderr();

    auto primary = SnapshotStore::OpenPrimary(store);
    ASSERT_TRUE(primary.ok()) << "kill " << i << " at " << delay << " ms: " << primary.status();
    auto latest = (*primary)->Latest();
    ASSERT_TRUE(latest.ok() && latest->has_value()) << "kill " << i;
    auto versions = (*primary)->ListVersions();
    ASSERT_TRUE(versions.ok());
    ASSERT_EQ(versions->back(), **latest) << "a manifest newer than latest, kill " << i;
    auto model = LoadModel(**primary, **latest);
    ASSERT_TRUE(model.ok()) << "kill " << i << " at " << delay << " ms left latest " << **latest
                            << " unloadable: " << model.status();
    if (exit_code == 0) {
      ++finished_before_kill;
      if (aimed) writing_estimate_ms *= 0.8;
      EXPECT_EQ(**latest, latest_before + 1);
    } else if (**latest > latest_before) {
      ++killed_after_commit;
    } else {
      ++killed_before_commit;
      // The publisher prints this once it holds the store, just before writing chunks.
      if (publisher.Stdout().find("publishing to") != std::string::npos) ++killed_while_writing;
    }
    latest_before = **latest;
  }
  std::printf(
      "%d SIGKILLs over a %.0f ms publish (writing from %.0f ms; aimed kills' writing estimate "
      "ended at %.0f ms): %d before the commit (%d of them while writing to the store), %d after "
      "it, %d publishes finished first; latest is version %lu\n",
      kKills, run_ms, writing_from_ms, writing_estimate_ms, killed_before_commit,
      killed_while_writing, killed_after_commit, finished_before_kill, latest_before);
  // Half the delays aim at the writing; a good share of kills must land there.
  EXPECT_GE(killed_while_writing, kKills / 5);

  // The server catches up with the last complete version and never tried a partial one.
  std::string metrics;
  for (int attempt = 0; attempt < 100; ++attempt) {
    metrics = server.ScrapeMetrics();
    if (MetricValue(metrics, "ranker_model_version") == static_cast<double>(latest_before)) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  EXPECT_EQ(MetricValue(metrics, "ranker_model_version"), static_cast<double>(latest_before))
      << "store errors: "
      << MetricValue(metrics, "ranker_model_reloads_total{result=\"store_error\"}")
      << "\nserver log:\n"
      << server.process().Stderr();
  EXPECT_EQ(MetricValue(metrics, "ranker_model_reloads_total{result=\"failure\"}"), 0)
      << server.process().Stderr();
  load.Stop();
  EXPECT_GT(load.calls(), 0);
  EXPECT_EQ(load.failures(), 0) << load.last_error();

  // Garbage collection removes the killed publishes' orphan chunks and keeps latest whole.
  auto primary = SnapshotStore::OpenPrimary(store);
  ASSERT_TRUE(primary.ok());
  ASSERT_TRUE((*primary)->CollectGarbage(1).ok());
  EXPECT_TRUE(LoadModel(**primary, latest_before).ok());
}

}  // namespace
}  // namespace ranker
