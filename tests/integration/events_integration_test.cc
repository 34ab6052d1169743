// ranker.v1.Events on the real server over real gRPC, one machine (no broker): Record, then the
// next Rank pools the recorded items (and does not return them); a server killed with SIGKILL
// right after the ack still has them; bad requests are refused naming the problem and change
// nothing; retries apply once; RecordStream and `ranker-client record` go the same way.
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>
#include <signal.h>

#include <fstream>
#include <set>

#include "tests/support/server_fixture.h"

namespace ranker {
namespace {

using ::ranker::testing::BinaryPath;
using ::ranker::testing::MetricValue;
using ::ranker::testing::RunCommand;
using ::ranker::testing::RunningServer;
using ::ranker::testing::RunStoreTool;
using ::ranker::testing::TempDir;

constexpr uint64_t kNewUser = 100000;  // no stored history in the demo store

class EventsIntegrationTest : public ::testing::Test {
 protected:
  void SetUp() override {
    RunStoreTool({"demo", "--store=" + store(), "--user_mode=history", "--users=50", "--items=60",
                  "--d=8", "--hidden=8", "--ratio=2", "--history_users=20"});
  }
  std::string store() const { return dir_.Sub("store"); }

  static v1::RecordRequest Request(uint64_t user, std::vector<uint64_t> items,
                                   std::string id = "") {
    v1::RecordRequest request;
    for (uint64_t item : items) {
      v1::Interaction* interaction = request.add_interactions();
      interaction->set_user_id(user);
      interaction->set_item_id(item);
    }
    request.set_request_id(std::move(id));
    return request;
  }
  static grpc::Status Record(const RunningServer& server, const v1::RecordRequest& request,
                             v1::RecordResponse* response) {
    auto stub = v1::Events::NewStub(
        grpc::CreateChannel(server.target(), grpc::InsecureChannelCredentials()));
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
    return stub->Record(&context, request, response);
  }
  static v1::RankResponse Rank(const RunningServer& server, uint64_t user,
                               std::vector<uint64_t> history = {}) {
    v1::RankRequest request;
    request.set_user_id(user);
    request.set_k(60);
    for (uint64_t item : history) request.add_history_ids(item);
    grpc::ClientContext context;
    v1::RankResponse response;
    const grpc::Status status = server.Ranker()->Rank(&context, request, &response);
    EXPECT_TRUE(status.ok()) << status.error_message();
    return response;
  }
  static std::string HistoryShow(const std::string& database, uint64_t user) {
    std::string out, err;
    EXPECT_EQ(RunCommand({BinaryPath("model_store/ranker-store"), "history", "show",
                          std::to_string(user), "--store=" + database},
                         &out, &err),
              0)
        << err;
    return out;
  }

  TempDir dir_;
};

TEST_F(EventsIntegrationTest, RankPoolsRecordedItemsAndTheyOutliveAKill) {
  auto server = std::make_unique<RunningServer>(store());
  ASSERT_TRUE(server->ok());
  EXPECT_TRUE(Rank(*server, kNewUser).popularity());
  v1::RecordResponse response;
  ASSERT_TRUE(Record(*server, Request(kNewUser, {3, 4, 5}, "first"), &response).ok());
  EXPECT_EQ(response.recorded(), 3u);
  EXPECT_EQ(response.users(), 1u);

  // The next Rank uses them: the same ranking as sending them as the history, none returned.
  const auto check = [&](const RunningServer& s) {
    const v1::RankResponse stored = Rank(s, kNewUser);
    EXPECT_EQ(stored.history_source(), v1::HISTORY_SOURCE_STORED);
    EXPECT_EQ(stored.history_length(), 3u);
    const v1::RankResponse sent = Rank(s, kNewUser, {3, 4, 5});
    ASSERT_EQ(stored.items_size(), sent.items_size());
    for (int i = 0; i < stored.items_size(); ++i) {
      EXPECT_EQ(stored.items(i).item_id(), sent.items(i).item_id());
      EXPECT_EQ(stored.items(i).score(), sent.items(i).score());
      EXPECT_FALSE(std::set<uint64_t>({3, 4, 5}).count(stored.items(i).item_id()));
    }
  };
  check(*server);
  // No graceful shutdown: the ack promised the fsync already happened.
  server->process().Signal(SIGKILL);
  server->process().Wait(absl::Seconds(10));
  server.reset();
  RunningServer restarted(store());
  ASSERT_TRUE(restarted.ok());
  check(restarted);
}

TEST_F(EventsIntegrationTest, AUserWithAStoredHistoryKeepsItAndGainsTheRecordedItems) {
  RunningServer server(store());
  ASSERT_TRUE(server.ok());
  const uint32_t before = Rank(server, 1).history_length();
  ASSERT_GT(before, 0u);
  v1::RecordResponse response;
  ASSERT_TRUE(Record(server, Request(1, {59}), &response).ok());
  const v1::RankResponse after = Rank(server, 1);
  EXPECT_EQ(after.history_length(), std::min(before + 1, 200u));
}

TEST_F(EventsIntegrationTest, BadRequestsAreRefusedNamingTheProblemAndChangeNothing) {
  RunningServer server(store(), {"--max_record_interactions=4"});
  ASSERT_TRUE(server.ok());
  v1::RecordResponse response;
  grpc::Status status = Record(server, v1::RecordRequest(), &response);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(status.error_message(), "no interactions: a Record call needs at least one");
  status = Record(server, Request(kNewUser, {1, 2, 3, 4, 5}), &response);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_NE(status.error_message().find("at most 4"), std::string::npos) << status.error_message();
  v1::RecordRequest future = Request(kNewUser, {1, 2});
  future.mutable_interactions(1)->set_timestamp_ms(4'000'000'000'000);  // year 2096
  status = Record(server, future, &response);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_NE(status.error_message().find("interaction 1: timestamp_ms"), std::string::npos);
  // All or nothing: item 1, valid on its own, was not recorded either.
  EXPECT_TRUE(Rank(server, kNewUser).popularity());
  const std::string scrape = server.ScrapeMetrics();
  EXPECT_EQ(MetricValue(scrape, "ranker_events_refused_total{reason=\"invalid\"}"), 7);
  EXPECT_EQ(
      MetricValue(scrape, "ranker_requests_total{code=\"INVALID_ARGUMENT\",method=\"Record\"}"), 3);
  EXPECT_EQ(MetricValue(scrape, "ranker_events_recorded_total"), 0);
}

TEST_F(EventsIntegrationTest, ARetryWithTheSameRequestIdAppliesOnce) {
  RunningServer server(store());
  ASSERT_TRUE(server.ok());
  v1::RecordResponse response;
  ASSERT_TRUE(Record(server, Request(kNewUser, {1, 2}, "a"), &response).ok());
  ASSERT_TRUE(Record(server, Request(kNewUser, {3}, "b"), &response).ok());
  v1::RecordResponse retry;
  ASSERT_TRUE(Record(server, Request(kNewUser, {1, 2}, "a"), &retry).ok());
  EXPECT_EQ(retry.recorded(), 2u);
  EXPECT_EQ(retry.duplicates(), 2u);
  // Applied again, 1 and 2 would have moved after 3. The database is readable while served.
  EXPECT_NE(HistoryShow(store() + "-histories", kNewUser).find("1,2,3"), std::string::npos);
  const std::string scrape = server.ScrapeMetrics();
  EXPECT_EQ(MetricValue(scrape, "ranker_events_recorded_total"), 5);
  EXPECT_EQ(MetricValue(scrape, "ranker_events_duplicates_total"), 2);
}

TEST_F(EventsIntegrationTest, RecordStreamRecordsEveryRequestUntilTheFirstBadOne) {
  RunningServer server(store());
  ASSERT_TRUE(server.ok());
  auto stub =
      v1::Events::NewStub(grpc::CreateChannel(server.target(), grpc::InsecureChannelCredentials()));
  {
    grpc::ClientContext context;
    v1::RecordResponse response;
    auto writer = stub->RecordStream(&context, &response);
    for (uint64_t user = 0; user < 3; ++user) {
      ASSERT_TRUE(writer->Write(Request(kNewUser + user, {7, 8})));
    }
    writer->WritesDone();
    ASSERT_TRUE(writer->Finish().ok());
    EXPECT_EQ(response.recorded(), 6u);
  }
  grpc::ClientContext context;
  v1::RecordResponse response;
  auto writer = stub->RecordStream(&context, &response);
  writer->Write(Request(kNewUser + 10, {1}));
  writer->Write(v1::RecordRequest());
  writer->WritesDone();
  const grpc::Status status = writer->Finish();
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_NE(status.error_message().find("request 1 (1 interactions before it were recorded)"),
            std::string::npos)
      << status.error_message();
  EXPECT_EQ(Rank(server, kNewUser + 10).history_length(), 1u);
}

TEST_F(EventsIntegrationTest, TheClientRecordsAFileOnceHoweverOftenItRuns) {
  RunningServer server(store());
  ASSERT_TRUE(server.ok());
  const std::string log = dir_.Sub("log.csv");
  {
    std::ofstream out(log);
    out << "user,item,timestamp_ms\n";
    for (int i = 0; i < 25; ++i) out << kNewUser + i % 5 << "," << i << ",0\n";
  }
  std::string out, err;
  const std::vector<std::string> command = {BinaryPath("client/ranker-client"), "record",
                                            "--target=" + server.target(), "--file=" + log,
                                            "--batch=10"};
  ASSERT_EQ(RunCommand(command, &out, &err), 0) << err;
  EXPECT_NE(out.find("recorded 25 interactions in 3 calls"), std::string::npos) << out;
  ASSERT_EQ(RunCommand(command, &out, &err), 0) << err;
  EXPECT_NE(out.find("(25 were recorded before: not applied again)"), std::string::npos) << out;
  EXPECT_EQ(Rank(server, kNewUser + 2).history_length(), 5u);
  // Bad input is a usage error naming the line.
  {
    std::ofstream out_file(log);
    out_file << "1,2\nnot,a line\n";
  }
  EXPECT_EQ(RunCommand(command, &out, &err), 2);
  EXPECT_NE(err.find("log.csv:2"), std::string::npos) << err;
}

}  // namespace
}  // namespace ranker
