// The fleet's event log for real: a nats-server with JetStream started here, replicas of the
// real ranker-server consuming it, producers calling Record on any replica. Every acknowledged
// interaction must reach every replica exactly once and in order per user, through a replica
// killed with SIGKILL, a broker killed and restarted, and a replica started late; hostile
// messages on the subject are skipped and counted, never applied, never stalling the consumer.
//
// The check is exact: each producer owns its users and gives each user increasing item ids,
// so a user's history must be precisely the items acknowledged for them, in order (a lost
// event leaves a gap, an event applied twice out of place moves an item).
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>
#include <signal.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <fstream>
#include <map>
#include <regex>
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "events/jetstream.h"
#include "model_store/history_store.h"
#include "tests/support/nats_fixture.h"
#include "tests/support/server_fixture.h"

namespace ranker {
namespace {

using ::ranker::testing::MetricValue;
using ::ranker::testing::RunningNats;
using ::ranker::testing::RunningServer;
using ::ranker::testing::RunStoreTool;
using ::ranker::testing::TempDir;

constexpr int kProducers = 4;
constexpr int kUsers = 400;            // producer p owns users p, p + 4, ...
constexpr int kPerRequest = 25;        // interactions per Record call
constexpr uint64_t kFirstItem = 1000;  // recorded items: 1000, 1001, ... per user
// Recorded users start here, clear of the demo store's users (whose stored histories would
// seed theirs); probes' users further up.
constexpr uint64_t kFirstUser = 10'000;
constexpr uint64_t kFirstProbeUser = 1'000'000;

using Histories = std::map<uint64_t, std::vector<uint64_t>>;

class FleetEventsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (std::string why = RunningNats::SkipReason(); !why.empty()) GTEST_SKIP() << why;
    RunStoreTool({"demo", "--store=" + dir_.Sub("store"), "--user_mode=history", "--users=50",
                  "--items=60", "--d=8", "--hidden=8", "--ratio=2", "--history_users=0"});
    broker_ = std::make_unique<RunningNats>(dir_.Sub("nats"));
    ASSERT_TRUE(broker_->ok());
    for (int i = 0; i < 3; ++i) StartReplica(i);
  }

  std::string Database(int replica) const {
    return dir_.Sub("histories-" + std::to_string(replica));
  }
  void StartReplica(int i, const std::vector<std::string>& extra_flags = {}) {
    if (replicas_.size() <= static_cast<size_t>(i)) replicas_.resize(i + 1);
    std::vector<std::string> flags = {"--histories=" + Database(i), "--nats=" + broker_->url(),
                                      "--history_cap=1000"};
    flags.insert(flags.end(), extra_flags.begin(), extra_flags.end());
    replicas_[i] = std::make_unique<RunningServer>(dir_.Sub("store"), flags);
    ASSERT_TRUE(replicas_[i]->ok());
  }
  std::string Target(int i) const { return replicas_[i] ? replicas_[i]->target() : ""; }

  // Records `calls` requests from each of kProducers threads, round robin over the replicas,
  // each retried with the same request id (on the next replica) until acknowledged. Returns
  // what was acknowledged per user, in order. `midway` runs once, a third of the way through.
  Histories Produce(int calls, const std::function<void()>& midway = {}) {
    std::vector<std::thread> threads;
    std::vector<Histories> acked(kProducers);
    std::atomic<int> done_calls{0};
    std::atomic<bool> midway_started{false};
    std::atomic<int> gave_up{0};
    for (int p = 0; p < kProducers; ++p) {
      threads.emplace_back([&, p] {
        std::map<uint64_t, uint64_t> next_item;
        for (int c = 0; c < calls; ++c) {
          v1::RecordRequest request;
          request.set_request_id(absl::StrCat("p", p, "-", c));
          std::vector<std::pair<uint64_t, uint64_t>> sent;
          for (int i = 0; i < kPerRequest; ++i) {
            const uint64_t user =
                kFirstUser + p + kProducers * ((c * kPerRequest + i) % (kUsers / kProducers));
            const uint64_t item = kFirstItem + next_item[user]++;
            v1::Interaction* interaction = request.add_interactions();
            interaction->set_user_id(user);
            interaction->set_item_id(item);
            sent.emplace_back(user, item);
          }
          bool ok = false;
          for (int attempt = 0; attempt < 200 && !ok; ++attempt) {
            const std::string target = Target((c + p + attempt) % 3);
            if (target.empty()) continue;
            auto stub = v1::Events::NewStub(
                grpc::CreateChannel(target, grpc::InsecureChannelCredentials()));
            grpc::ClientContext context;
            context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
            v1::RecordResponse response;
            const grpc::Status status = stub->Record(&context, request, &response);
            ok = status.ok();
            if (!ok) std::this_thread::sleep_for(std::chrono::milliseconds(50));
          }
          if (!ok) {
            ++gave_up;
            return;
          }
          for (const auto& [user, item] : sent) acked[p][user].push_back(item);
          if (++done_calls == kProducers * calls / 3 && midway && !midway_started.exchange(true)) {
            std::thread(midway).detach();
          }
        }
      });
    }
    for (std::thread& thread : threads) thread.join();
    EXPECT_EQ(gave_up.load(), 0) << "a producer could not get a call acknowledged";
    Histories all;
    for (Histories& part : acked) all.merge(part);
    return all;
  }

  // The recorded users' histories (probes' left out).
  static Histories Read(const std::string& database) {
    Histories histories;
    auto store = HistoryStore::OpenReader(database);
    if (!store.ok()) return histories;
    (void)(*store)->ForEach([&](uint64_t user, const std::vector<uint64_t>& items) {
      if (user < kFirstProbeUser) histories[user] = items;
      return absl::OkStatus();
    });
    return histories;
  }
  // Waits until `replica`'s database holds exactly `expected` (30 s at most); on failure, says
  // how they differ.
  bool Converges(int replica, const Histories& expected) {
    const absl::Time deadline = absl::Now() + absl::Seconds(30);
    Histories actual;
    while (absl::Now() < deadline) {
      actual = Read(Database(replica));
      if (actual == expected) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(200));
    }
    size_t missing = 0, different = 0;
    for (const auto& [user, items] : expected) {
      auto it = actual.find(user);
      if (it == actual.end()) {
        ++missing;
      } else if (it->second != items) {
        if (++different == 1) {
          ADD_FAILURE() << "user " << user << ": " << it->second.size() << " items, expected "
                        << items.size();
        }
      }
    }
    ADD_FAILURE() << "replica " << replica << ": " << actual.size() << " users, expected "
                  << expected.size() << "; " << missing << " missing, " << different
                  << " with other histories";
    return false;
  }
  static std::string Digest(const std::string& database) {
    std::string out, err;
    testing::RunCommand({testing::BinaryPath("model_store/ranker-store"), "history", "digest",
                         "--store=" + database},
                        &out, &err);
    return out.substr(0, out.find(", applied"));
  }

  TempDir dir_;
  std::unique_ptr<RunningNats> broker_;
  std::vector<std::unique_ptr<RunningServer>> replicas_;
};

// Rank calls against random replicas until `stop`; counts the failed ones.
std::thread RankLoad(const std::vector<std::string>& targets, std::atomic<bool>* stop,
                     std::atomic<int>* failures, std::atomic<int>* calls) {
  return std::thread([=] {
    int i = 0;
    while (!stop->load()) {
      auto stub = v1::Ranker::NewStub(
          grpc::CreateChannel(targets[i % targets.size()], grpc::InsecureChannelCredentials()));
      grpc::ClientContext context;
      v1::RankRequest request;
      request.set_user_id(kFirstUser + i % kUsers);
      request.set_k(10);
      v1::RankResponse response;
      if (!stub->Rank(&context, request, &response).ok()) ++*failures;
      ++*calls;
      ++i;
    }
  });
}

TEST_F(FleetEventsTest, EveryReplicaConvergesUnderLoadAndALateOneRebuilds) {
  std::atomic<bool> stop{false};
  std::atomic<int> rank_failures{0}, rank_calls{0};
  std::thread load =
      RankLoad({Target(0), Target(1), Target(2)}, &stop, &rank_failures, &rank_calls);
  // Event-to-visible: record for a fresh user on one replica, Rank on another until it is used.
  std::vector<double> visible_ms;
  std::thread probe([&] {
    for (int k = 0; k < 60 && !stop.load(); ++k) {
      const uint64_t user = kFirstProbeUser + k;
      auto recorder = v1::Events::NewStub(
          grpc::CreateChannel(Target(k % 3), grpc::InsecureChannelCredentials()));
      auto ranker = v1::Ranker::NewStub(
          grpc::CreateChannel(Target((k + 1) % 3), grpc::InsecureChannelCredentials()));
      v1::RecordRequest request;
      v1::Interaction* interaction = request.add_interactions();
      interaction->set_user_id(user);
      interaction->set_item_id(7);
      const auto start = std::chrono::steady_clock::now();
      grpc::ClientContext context;
      v1::RecordResponse response;
      if (!recorder->Record(&context, request, &response).ok()) continue;
      for (int poll = 0; poll < 5000; ++poll) {
        grpc::ClientContext rank_context;
        v1::RankRequest rank;
        rank.set_user_id(user);
        rank.set_k(1);
        v1::RankResponse ranked;
        if (ranker->Rank(&rank_context, rank, &ranked).ok() &&
            ranked.history_source() == v1::HISTORY_SOURCE_STORED) {
          visible_ms.push_back(
              std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start)
                  .count());
          break;
        }
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
  });
  const auto start = std::chrono::steady_clock::now();
  Histories expected = Produce(100'000 / kPerRequest / kProducers);
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  probe.join();
  stop = true;
  load.join();
  size_t events = 0;
  for (const auto& [user, items] : expected) events += items.size();
  ASSERT_EQ(events, 100'000u);
  for (int i = 0; i < 3; ++i) EXPECT_TRUE(Converges(i, expected)) << "replica " << i;
  EXPECT_EQ(rank_failures.load(), 0) << "of " << rank_calls.load() << " Rank calls";
  std::sort(visible_ms.begin(), visible_ms.end());
  ASSERT_FALSE(visible_ms.empty());
  std::printf(
      "100000 events from %d producers in %.2f s (%.0f/s) under %d Rank calls; "
      "event-to-visible on another replica over %zu probes: p50 %.1f ms, p99 %.1f ms\n",
      kProducers, seconds, 100'000 / seconds, rank_calls.load(), visible_ms.size(),
      visible_ms[visible_ms.size() / 2],
      visible_ms[std::min(visible_ms.size() - 1, visible_ms.size() * 99 / 100)]);
  // The probes' users are in the databases too; compare digests of everything.
  const std::string digest = Digest(Database(0));
  for (int i = 1; i < 3; ++i) EXPECT_EQ(Digest(Database(i)), digest);
  // A replica started now, with an empty database, replays the stream to the same state.
  StartReplica(3);
  for (int i = 0; i < 600 && Digest(Database(3)) != digest; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  EXPECT_EQ(Digest(Database(3)), digest);
  std::printf("digest of every replica, the late one included: %s\n", digest.c_str());
}

TEST_F(FleetEventsTest, AReplicaKilledMidStreamResumesWhereItsDatabaseSays) {
  std::string resumed_log;
  Histories expected = Produce(150, [&] {
    replicas_[2]->process().Signal(SIGKILL);
    replicas_[2]->process().Wait(absl::Seconds(10));
    std::this_thread::sleep_for(std::chrono::milliseconds(500));
    StartReplica(2);
  });
  for (int i = 0; i < 3; ++i) EXPECT_TRUE(Converges(i, expected)) << "replica " << i;
  // It resumed after what it had applied, not from the start of the stream.
  std::smatch match;
  const std::string err = replicas_[2]->process().Stderr();
  ASSERT_TRUE(std::regex_search(err, match, std::regex("consuming from sequence (\\d+)"))) << err;
  EXPECT_GT(std::stoull(match[1]), 1u) << err;
}

// A replica gathers the stream's messages for --event_apply_linger before writing them, except
// while a Record on it waits to read its own writes.
TEST_F(FleetEventsTest, ALingeringReplicaWritesTheStreamInFewBatchesAndStillReadsItsOwnWrites) {
  replicas_[2].reset();
  StartReplica(2, {"--event_apply_linger=8s"});
  // Its consumer first: a Record made before it subscribed would outwait read-your-writes.
  for (int i = 0; i < 300 && replicas_[2]->process().Stderr().find("consuming from sequence") ==
                                 std::string::npos;
       ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  const auto record = [](const std::string& target, uint64_t user, uint64_t item) {
    auto stub =
        v1::Events::NewStub(grpc::CreateChannel(target, grpc::InsecureChannelCredentials()));
    v1::RecordRequest request;
    v1::Interaction* interaction = request.add_interactions();
    interaction->set_user_id(user);
    interaction->set_item_id(item);
    grpc::ClientContext context;
    v1::RecordResponse response;
    return stub->Record(&context, request, &response);
  };

  // Read-your-writes: the lingering replica applies at once for a Record made on it.
  ASSERT_TRUE(record(Target(2), kFirstUser, kFirstItem).ok());
  EXPECT_EQ(Read(Database(2))[kFirstUser], std::vector<uint64_t>{kFirstItem});

  // Twenty Record calls on another replica reach it in far fewer writes.
  const double batches_before =
      MetricValue(replicas_[2]->ScrapeMetrics(), "ranker_events_apply_batches_total");
  Histories expected = {{kFirstUser, {kFirstItem}}};
  for (int i = 0; i < 20; ++i) {
    ASSERT_TRUE(record(Target(0), kFirstUser + 1 + i, kFirstItem + i).ok());
    expected[kFirstUser + 1 + i] = {kFirstItem + static_cast<uint64_t>(i)};
  }
  ASSERT_TRUE(Converges(2, expected));
  const double batches =
      MetricValue(replicas_[2]->ScrapeMetrics(), "ranker_events_apply_batches_total") -
      batches_before;
  EXPECT_GE(batches, 1);
  EXPECT_LE(batches, 5) << "20 messages within one linger window took " << batches << " writes";
}

TEST_F(FleetEventsTest, ABrokerRestartLosesNoAcknowledgedEventAndDuplicatesNone) {
  std::atomic<int> unavailable{0};
  Histories expected = Produce(150, [&] {
    broker_->Kill();
    // While it is down, Record answers UNAVAILABLE at once.
    auto stub =
        v1::Events::NewStub(grpc::CreateChannel(Target(0), grpc::InsecureChannelCredentials()));
    grpc::ClientContext context;
    v1::RecordRequest request;
    request.add_interactions()->set_user_id(5);
    v1::RecordResponse response;
    if (stub->Record(&context, request, &response).error_code() == grpc::StatusCode::UNAVAILABLE) {
      ++unavailable;
    }
    std::this_thread::sleep_for(std::chrono::seconds(1));
    ASSERT_TRUE(broker_->Restart());
  });
  EXPECT_EQ(unavailable.load(), 1);
  for (int i = 0; i < 3; ++i) EXPECT_TRUE(Converges(i, expected)) << "replica " << i;
  const std::string scrape = replicas_[0]->ScrapeMetrics();
  EXPECT_GT(MetricValue(scrape, "ranker_events_refused_total{reason=\"unavailable\"}"), 0);
}

TEST_F(FleetEventsTest, HostileMessagesAreSkippedCountedAndNeverStallTheConsumer) {
  JetStreamOptions options;
  options.url = broker_->url();
  auto connection = JetStreamConnection::Connect(options);
  ASSERT_TRUE(connection.ok());
  ASSERT_TRUE((*connection)->EnsureStream().ok());
  const auto publish = [&](const std::string& subject, const std::string& data) {
    auto ack = (*connection)->Publish(subject, data, "");
    return ack.ok();
  };
  const auto message = [](uint64_t user, std::vector<uint64_t> items, int64_t time_ms) {
    v1::UserInteractions m;
    m.set_user_id(user);
    for (uint64_t item : items) {
      m.add_item_ids(item);
      m.add_timestamps_ms(time_ms);
    }
    return m.SerializeAsString();
  };
  EXPECT_TRUE(publish("ranker.events.5", "\xff\xfe garbage"));                  // malformed
  EXPECT_TRUE(publish("ranker.events.not-a-user", message(5, {1}, 1)));         // malformed
  EXPECT_TRUE(publish("ranker.events.5", message(6, {1}, 1)));                  // invalid: user
  EXPECT_TRUE(publish("ranker.events.5", message(5, {1}, 4'000'000'000'000)));  // invalid: time
  EXPECT_TRUE(publish("ranker.events.5", message(5, {~uint64_t{0}}, 1)));       // invalid: id
  EXPECT_TRUE(publish("ranker.events.5", message(5, std::vector<uint64_t>(20000, 3), 1)));
  // Bigger than the stream allows: the broker itself refuses it.
  EXPECT_FALSE(publish("ranker.events.5", std::string(2 << 20, 'x')));
  EXPECT_TRUE(publish("ranker.events.20000", message(20000, {4, 5}, 1)));  // then a good one
  const Histories expected = {{20000, {4, 5}}};
  for (int i = 0; i < 3; ++i) EXPECT_TRUE(Converges(i, expected)) << "replica " << i;
  const std::string scrape = replicas_[1]->ScrapeMetrics();
  EXPECT_EQ(MetricValue(scrape, "ranker_events_skipped_total{reason=\"malformed\"}"), 2);
  EXPECT_EQ(MetricValue(scrape, "ranker_events_skipped_total{reason=\"invalid\"}"), 3);
  EXPECT_EQ(MetricValue(scrape, "ranker_events_skipped_total{reason=\"oversized\"}"), 1);
  EXPECT_EQ(MetricValue(scrape, "ranker_events_applied_sequence"), 7);
  EXPECT_EQ(MetricValue(scrape, "ranker_events_applied_total"), 2);
}

}  // namespace
}  // namespace ranker

namespace ranker {
namespace {

TEST_F(FleetEventsTest, ImportsGoThroughTheStreamAndTheStreamExportsAsTheTrainersCsv) {
  const std::string log = dir_.Sub("log.csv");
  {
    std::ofstream out(log);
    out << "user,item,rating,timestamp\n30000,5,1,100\n30000,6,1,200\n30001,7,1,150\n";
  }
  std::string out, err;
  const std::string store_tool = testing::BinaryPath("model_store/ranker-store");
  ASSERT_EQ(testing::RunCommand({store_tool, "history", "import", log, "--nats=" + broker_->url()},
                                &out, &err),
            0)
      << err;
  EXPECT_NE(out.find("published the histories of 2 users (3 interactions, 0 already"),
            std::string::npos)
      << out;
  // Again: the broker drops it as a duplicate.
  ASSERT_EQ(testing::RunCommand({store_tool, "history", "import", log, "--nats=" + broker_->url()},
                                &out, &err),
            0);
  EXPECT_NE(out.find("3 interactions, 3 already in the stream"), std::string::npos) << out;
  const Histories expected = {{30000, {5, 6}}, {30001, {7}}};
  for (int i = 0; i < 3; ++i) EXPECT_TRUE(Converges(i, expected)) << "replica " << i;
  // A Record too, then the export: every interaction, in stream order, as CSV.
  auto stub =
      v1::Events::NewStub(grpc::CreateChannel(Target(0), grpc::InsecureChannelCredentials()));
  grpc::ClientContext context;
  v1::RecordRequest request;
  v1::Interaction* interaction = request.add_interactions();
  interaction->set_user_id(30002);
  interaction->set_item_id(9);
  interaction->set_timestamp_ms(1'700'000'000'000);
  v1::RecordResponse response;
  ASSERT_TRUE(stub->Record(&context, request, &response).ok());
  ASSERT_EQ(
      testing::RunCommand({store_tool, "events", "export", "--nats=" + broker_->url()}, &out, &err),
      0)
      << err;
  EXPECT_EQ(out.substr(0, out.find('\n')), "user,item,rating,timestamp_ms");
  EXPECT_NE(out.find("\n30000,5,1,"), std::string::npos) << out;
  EXPECT_NE(out.find("\n30000,6,1,"), std::string::npos) << out;
  EXPECT_NE(out.find("\n30001,7,1,"), std::string::npos) << out;
  EXPECT_NE(out.find("\n30002,9,1,1700000000000\n"), std::string::npos) << out;
  // --since leaves out what came before.
  ASSERT_EQ(testing::RunCommand({store_tool, "events", "export", "--nats=" + broker_->url(),
                                 "--since=2023-11-14T22:13:21Z"},
                                &out, &err),
            0)
      << err;
  EXPECT_EQ(out.find("\n30002,9,1,1700000000000\n"), std::string::npos) << out;
}

}  // namespace
}  // namespace ranker

namespace ranker {
namespace {

TEST_F(FleetEventsTest, AStoresHistoriesAndATrainersLogReachTheFleetThroughTheStream) {
  const std::string store_tool = testing::BinaryPath("model_store/ranker-store");
  std::string out, err;
  // A store whose histories predate the stream (its history family, written by an import).
  const std::string log = dir_.Sub("old.csv");
  {
    std::ofstream file(log);
    file << "user,item,rating,timestamp\n40001,3,1,1\n40001,4,1,2\n40002,5,1,1\n";
  }
  const std::string other = dir_.Sub("other-store");
  ASSERT_EQ(
      testing::RunCommand({store_tool, "history", "import", log, "--store=" + other}, &out, &err),
      0)
      << err;
  const std::vector<std::string> publish = {store_tool, "history", "publish", "--store=" + other,
                                            "--nats=" + broker_->url()};
  ASSERT_EQ(testing::RunCommand(publish, &out, &err), 0) << err;
  EXPECT_NE(out.find("published the histories of 2 users (3 interactions, 0 already"),
            std::string::npos)
      << out;
  ASSERT_EQ(testing::RunCommand(publish, &out, &err), 0) << err;
  EXPECT_NE(out.find("3 interactions, 3 already in the stream"), std::string::npos) << out;
  Histories expected = {{40001, {3, 4}}, {40002, {5}}};
  for (int i = 0; i < 3; ++i) EXPECT_TRUE(Converges(i, expected)) << "replica " << i;

  // The trainer's --publish with --nats: the log's histories go to the stream, not the store.
  const std::string train_log = dir_.Sub("train.csv");
  {
    std::ofstream file(train_log);
    file << "user,item,rating,timestamp\n";
    for (int user = 50001; user <= 50040; ++user) {
      for (int j = 0; j < 8; ++j) {
        file << user << "," << 100 + (user + 3 * j) % 20 << ",5," << 1000 + j << "\n";
      }
    }
  }
  ASSERT_EQ(testing::RunCommand(
                {testing::BinaryPath("trainer/ranker-train"), "train", "--data=" + train_log,
                 "--user_mode=history", "--kind=memcom", "--ratio=2", "--d=8", "--hidden=8",
                 "--max_epochs=1", "--publish=" + dir_.Sub("trained"), "--nats=" + broker_->url()},
                &out, &err),
            0)
      << err;
  EXPECT_NE(out.find("published the histories of 40 users (320 interactions"), std::string::npos)
      << out;
  for (int user = 50001; user <= 50040; ++user) {
    std::vector<uint64_t> items;
    for (int j = 0; j < 8; ++j) items.push_back(100 + (user + 3 * j) % 20);
    expected[user] = items;
  }
  for (int i = 0; i < 3; ++i) EXPECT_TRUE(Converges(i, expected)) << "replica " << i;
  // Not in the trained store's history family.
  ASSERT_EQ(testing::RunCommand({store_tool, "history", "stats", "--store=" + dir_.Sub("trained")},
                                &out, &err),
            0)
      << err;
  EXPECT_NE(out.find("about 0 users"), std::string::npos) << out;
}

}  // namespace
}  // namespace ranker

namespace ranker {
namespace {

// In a fleet the exposure log is a stream on the same broker: a replica's sampled responses
// are read back from it by `ranker-store exposures --nats`, user for user.
TEST_F(FleetEventsTest, SampledResponsesGoToTheExposureStream) {
  RunningServer replica(dir_.Sub("store"),
                        {"--histories=" + dir_.Sub("histories-exposures"),
                         "--nats=" + broker_->url(), "--exposure_sample_rate=1"});
  ASSERT_TRUE(replica.ok());
  auto stub = replica.Ranker();
  std::vector<std::string> expected;
  for (uint64_t user = 0; user < 30; ++user) {
    grpc::ClientContext context;
    v1::RankRequest request;
    request.set_user_id(user);
    request.set_k(4);
    v1::RankResponse response;
    ASSERT_TRUE(stub->Rank(&context, request, &response).ok());
    std::vector<uint64_t> ids;
    for (const v1::ScoredItem& item : response.items()) ids.push_back(item.item_id());
    expected.push_back(absl::StrCat(",default,", response.model_version(), ",,0,", user, ",",
                                    absl::StrJoin(ids, " "), ","));
  }
  double published = 0;
  for (int attempt = 0; attempt < 100 && published < 30; ++attempt) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    published = testing::MetricValue(replica.ScrapeMetrics(), "ranker_exposures_logged_total");
  }
  ASSERT_EQ(published, 30);
  std::string out, err;
  ASSERT_EQ(testing::RunCommand({testing::BinaryPath("model_store/ranker-store"), "exposures",
                                 "--nats=" + broker_->url()},
                                &out, &err),
            0)
      << err;
  EXPECT_NE(err.find("30 exposures printed of 30 read from stream RANKER_EXPOSURES"),
            std::string::npos)
      << err;
  for (const std::string& line : expected) {
    EXPECT_NE(out.find(line), std::string::npos) << line << "\n" << out;
  }
}

}  // namespace
}  // namespace ranker
