// End-to-end: the real ranker-server binary over a real store, called over loopback gRPC.
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>
#include <signal.h>

#include <atomic>
#include <mutex>
#include <thread>

#include "model_store/model_loader.h"
#include "model_store/snapshot_store.h"
#include "tests/support/protos/reflection_subset.grpc.pb.h"
#include "tests/support/server_fixture.h"
#include "tests/support/store_damage.h"

namespace ranker {
namespace {

using ::ranker::testing::RunningServer;
using ::ranker::testing::RunStoreTool;
using ::ranker::testing::TempDir;

grpc::Status CallRank(v1::Ranker::Stub& stub, const v1::RankRequest& request,
                      v1::RankResponse* response) {
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(30));
  return stub.Rank(&context, request, response);
}

v1::RankRequest Request(uint64_t user, std::vector<uint64_t> candidates, uint32_t k) {
  v1::RankRequest request;
  request.set_user_id(user);
  for (uint64_t c : candidates) request.add_candidate_ids(c);
  request.set_k(k);
  return request;
}

grpc::health::v1::HealthCheckResponse::ServingStatus Health(const RunningServer& server) {
  grpc::ClientContext context;
  grpc::health::v1::HealthCheckRequest request;
  grpc::health::v1::HealthCheckResponse response;
  EXPECT_TRUE(server.Health()->Check(&context, request, &response).ok());
  return response.status();
}

// Version 1 of the store, loaded in process as the server loads it; nullptr on failure.
std::unique_ptr<const Model> LoadVersionOne(const std::string& store_path) {
  auto store = SnapshotStore::OpenSecondary(store_path);
  EXPECT_TRUE(store.ok()) << store.status();
  if (!store.ok()) return nullptr;
  auto model = LoadModel(**store, 1);
  EXPECT_TRUE(model.ok()) << model.status();
  if (!model.ok()) return nullptr;
  return *std::move(model);
}

class ServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    RunStoreTool({"demo", "--store=" + store_, "--users=500", "--items=300", "--d=16",
                  "--hidden=32,16", "--ratio=4", "--sparse_item_ids", "--seed=5"});
  }
  TempDir dir_;
  const std::string store_ = dir_.Sub("store");
};

TEST_F(ServerTest, RankMatchesTheModelComputedInProcess) {
  RunningServer server(store_, {"--max_k=400"});
  ASSERT_TRUE(server.ok());
  const std::unique_ptr<const Model> model = LoadVersionOne(store_);
  ASSERT_NE(model, nullptr);
  auto stub = server.Ranker();

  const std::vector<v1::RankRequest> requests = {
      Request(42, {}, 10),                       // whole catalogue
      Request(7, {3, 10, 17, 10, 2000, 24}, 4),  // duplicate and unknown (2000 % 7 != 3)
      Request(499, {38, 45}, 10),                // k > candidates
      Request(123456, {}, 300),                  // unknown user, every item
  };
  for (const v1::RankRequest& request : requests) {
    v1::RankResponse response;
    ASSERT_TRUE(CallRank(*stub, request, &response).ok());
    RankScratch scratch;
    RankResult expected;
    model->Rank(request.user_id(),
                absl::MakeConstSpan(request.candidate_ids().data(), request.candidate_ids_size()),
                request.k(), &scratch, &expected);
    EXPECT_EQ(response.model_version(), 1u);
    EXPECT_EQ(response.unknown_ids(), expected.unknown_users + expected.unknown_items);
    ASSERT_EQ(response.items_size(), static_cast<int>(expected.items.size()));
    for (int r = 0; r < response.items_size(); ++r) {
      EXPECT_EQ(response.items(r).item_id(), expected.items[r].id);
      EXPECT_FLOAT_EQ(response.items(r).score(), expected.items[r].score);
    }
  }
}

// Two stages over real gRPC: the server's --retrieve_n applies to whole-catalogue requests,
// a request's own retrieve_n overrides it within --max_retrieve_n, the response says which
// stages ran, the ranking is the in-process model's, and the metrics count the calls.
TEST_F(ServerTest, TwoStagesRankAsTheModelAndAreReportedAndCounted) {
  RunningServer server(store_, {"--retrieve_n=50", "--max_retrieve_n=1000"});
  ASSERT_TRUE(server.ok());
  const std::unique_ptr<const Model> model = LoadVersionOne(store_);
  ASSERT_NE(model, nullptr);
  auto stub = server.Ranker();

  for (uint32_t request_n : {0u, 20u, 1000u}) {
    SCOPED_TRACE(::testing::Message() << "request retrieve_n " << request_n);
    v1::RankRequest request = Request(42, {}, 10);
    request.set_retrieve_n(request_n);
    v1::RankResponse response;
    ASSERT_TRUE(CallRank(*stub, request, &response).ok());
    const size_t n = request_n == 0 ? 50 : request_n;
    const bool two = n < 300;  // the demo catalogue has 300 items
    EXPECT_EQ(response.stages().retrieval_scored(), two ? 300u : 0u);
    EXPECT_EQ(response.stages().ranked(), two ? n : 300u);
    RankQuery query;
    query.user_id = 42;
    query.k = 10;
    query.retrieve_n = n;
    RankScratch scratch;
    RankResult expected;
    model->Rank(query, &scratch, &expected);
    ASSERT_EQ(response.items_size(), 10);
    for (int r = 0; r < response.items_size(); ++r) {
      EXPECT_EQ(response.items(r).item_id(), expected.items[r].id) << r;
      EXPECT_FLOAT_EQ(response.items(r).score(), expected.items[r].score) << r;
    }
  }
  v1::RankRequest too_many = Request(42, {}, 10);
  too_many.set_retrieve_n(1001);
  v1::RankResponse response;
  const grpc::Status status = CallRank(*stub, too_many, &response);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_NE(status.error_message().find("max_retrieve_n = 1000"), std::string::npos)
      << status.error_message();

  const std::string metrics = server.ScrapeMetrics();
  EXPECT_EQ(testing::MetricValue(metrics, "ranker_rank_stages_total{stages=\"two\"}"), 2);
  EXPECT_EQ(testing::MetricValue(metrics, "ranker_rank_stages_total{stages=\"one\"}"), 1);
  EXPECT_EQ(testing::MetricValue(metrics, "ranker_rank_scored_items_count"), 3);
  EXPECT_EQ(testing::MetricValue(metrics, "ranker_rank_scored_items_sum"), 50 + 20 + 300);
}

TEST_F(ServerTest, BadRequestsGetTheRightCodeAndNameTheLimit) {
  // Record's limit is kept below Rank's, so that Rank's sets the receive limit (below).
  RunningServer server(store_,
                       {"--max_k=50", "--max_candidates=100", "--max_record_interactions=100"});
  ASSERT_TRUE(server.ok());
  auto stub = server.Ranker();
  v1::RankResponse response;

  grpc::Status status = CallRank(*stub, Request(1, {}, 0), &response);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_NE(status.error_message().find("k must be at least 1"), std::string::npos);

  status = CallRank(*stub, Request(1, {}, 51), &response);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_NE(status.error_message().find("max_k = 50"), std::string::npos);

  status = CallRank(*stub, Request(1, std::vector<uint64_t>(101, 3), 5), &response);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_NE(status.error_message().find("max_candidates = 100"), std::string::npos);

  // A message far past what the id limits allow is refused by gRPC before it is parsed (the
  // receive limit is 11 bytes per allowed candidate, exclude and history id + 4 KiB, or 36 bytes
  // per allowed Record interaction if that is more: (2 x 100 + 1000) x 11 + 4096 = 17,296
  // bytes here; 4,000 9-byte ids are 36 KB).
  status =
      CallRank(*stub, Request(1, std::vector<uint64_t>(4000, uint64_t{1} << 60), 5), &response);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED);
  EXPECT_NE(status.error_message().find("larger than max"), std::string::npos)
      << status.error_message();

  v1::RankRequest pinned = Request(1, {}, 5);
  pinned.set_model_version(9);
  status = CallRank(*stub, pinned, &response);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::NOT_FOUND);
  EXPECT_NE(status.error_message().find("version 9"), std::string::npos);

  pinned.set_model_version(1);
  EXPECT_TRUE(CallRank(*stub, pinned, &response).ok());

  // Still healthy after all that.
  EXPECT_EQ(Health(server), grpc::health::v1::HealthCheckResponse::SERVING);
}

TEST_F(ServerTest, RejectPolicyRefusesUnknownIds) {
  RunningServer server(store_, {"--unknown_ids=reject"});
  ASSERT_TRUE(server.ok());
  auto stub = server.Ranker();
  v1::RankResponse response;
  grpc::Status status = CallRank(*stub, Request(1, {3, 5}, 5), &response);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_NE(status.error_message().find("candidate item 5"), std::string::npos);
  // The first unknown id in the request's order is named, not the smallest.
  status = CallRank(*stub, Request(1, {3, 900005, 5}, 5), &response);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_NE(status.error_message().find("candidate item 900005 "), std::string::npos)
      << status.error_message();
  EXPECT_TRUE(CallRank(*stub, Request(1, {3, 10}, 5), &response).ok());
}

TEST_F(ServerTest, HealthReflectionAndModelInfo) {
  RunningServer server(store_);
  ASSERT_TRUE(server.ok());
  EXPECT_EQ(Health(server), grpc::health::v1::HealthCheckResponse::SERVING);

  auto channel = grpc::CreateChannel(server.target(), grpc::InsecureChannelCredentials());
  auto reflection = grpc::reflection::v1alpha::ServerReflection::NewStub(channel);
  grpc::ClientContext context;
  auto stream = reflection->ServerReflectionInfo(&context);
  grpc::reflection::v1alpha::ServerReflectionRequest list;
  list.set_list_services("");
  ASSERT_TRUE(stream->Write(list));
  stream->WritesDone();
  grpc::reflection::v1alpha::ServerReflectionResponse answer;
  ASSERT_TRUE(stream->Read(&answer));
  std::vector<std::string> services;
  for (const auto& s : answer.list_services_response().service()) services.push_back(s.name());
  EXPECT_NE(std::find(services.begin(), services.end(), "ranker.v1.Ranker"), services.end());
  EXPECT_NE(std::find(services.begin(), services.end(), "grpc.health.v1.Health"), services.end());
  EXPECT_TRUE(stream->Finish().ok());

  grpc::ClientContext info_context;
  v1::ModelInfo info;
  ASSERT_TRUE(server.Ranker()->GetModelInfo(&info_context, v1::GetModelInfoRequest(), &info).ok());
  EXPECT_EQ(info.version(), 1u);
  ASSERT_EQ(info.tables_size(), 2);
  EXPECT_EQ(info.tables(0).feature(), "user");
  EXPECT_EQ(info.tables(0).kind(), "memcom");
  EXPECT_EQ(info.tables(0).n(), 500u);
  EXPECT_EQ(info.tables(0).d(), 16u);
  EXPECT_TRUE(info.tables(1).has_id_map());
  EXPECT_GT(info.uncompressed_bytes(), info.resident_bytes());
  EXPECT_NEAR(info.compression_ratio(), 4.0, 0.2);
  EXPECT_EQ(info.producer().at("tool"), "ranker-store demo");
}

TEST_F(ServerTest, EmptyStoreStartsNotServingThenServesOncePublished) {
  const std::string empty = dir_.Sub("empty");
  RunStoreTool({"init", "--store=" + empty});
  RunningServer server(empty, {"--poll_interval=1h"});
  ASSERT_TRUE(server.ok());
  EXPECT_EQ(Health(server), grpc::health::v1::HealthCheckResponse::NOT_SERVING);
  v1::RankResponse response;
  auto stub = server.Ranker();
  EXPECT_EQ(CallRank(*stub, Request(1, {}, 5), &response).error_code(),
            grpc::StatusCode::UNAVAILABLE);

  RunStoreTool(
      {"demo", "--store=" + empty, "--users=20", "--items=20", "--d=4", "--hidden=4", "--ratio=2"});
  // The admin Reload polls the store synchronously: no waiting on the 1 h poll interval.
  grpc::ClientContext context;
  v1::ReloadResponse reload;
  ASSERT_TRUE(server.Admin()->Reload(&context, v1::ReloadRequest(), &reload).ok());
  EXPECT_EQ(reload.serving_version(), 1u);
  EXPECT_EQ(Health(server), grpc::health::v1::HealthCheckResponse::SERVING);
  EXPECT_TRUE(CallRank(*stub, Request(1, {}, 5), &response).ok());
}

// With --max_connection_age the server closes a client's connection after a while (so DNS
// round-robin clients re-resolve), gracefully: the channel leaves READY and the next call
// succeeds on a new connection. Without it, the connection stays up.
TEST_F(ServerTest, MaxConnectionAgeClosesConnectionsAndCallsReconnect) {
  for (const bool aged : {true, false}) {
    RunningServer server(store_, aged ? std::vector<std::string>{"--max_connection_age=300ms"}
                                      : std::vector<std::string>{});
    ASSERT_TRUE(server.ok());
    auto channel = grpc::CreateChannel(server.target(), grpc::InsecureChannelCredentials());
    auto stub = v1::Ranker::NewStub(channel);
    v1::RankResponse response;
    ASSERT_TRUE(CallRank(*stub, Request(1, {3, 10, 17}, 2), &response).ok());
    ASSERT_EQ(channel->GetState(false), GRPC_CHANNEL_READY);
    // The server's GOAWAY takes the channel out of READY (it may reconnect at once after).
    const bool left_ready = channel->WaitForStateChange(
        GRPC_CHANNEL_READY, std::chrono::system_clock::now() + std::chrono::seconds(3));
    EXPECT_EQ(left_ready, aged) << "aged: " << aged;
    EXPECT_TRUE(CallRank(*stub, Request(1, {3, 10, 17}, 2), &response).ok()) << aged;
  }
}

TEST_F(ServerTest, CorruptLatestVersionIsRefusedAndThePreviousOneServes) {
  RunStoreTool({"demo", "--store=" + store_, "--users=500", "--items=300", "--d=16",
                "--hidden=32,16", "--ratio=4", "--seed=6"});
  ASSERT_TRUE(
      testing::DamageChunk(store_, 2, "item/shared", 0, testing::ChunkDamage::kFlipByte).ok());
  // Version 2 is latest but damaged: a fresh server refuses it and serves version 1.
  RunningServer server(store_);
  ASSERT_TRUE(server.ok());
  const std::string log = server.process().Stderr();
  EXPECT_NE(log.find("model version 2 rejected"), std::string::npos) << log;
  EXPECT_NE(log.find("item/shared"), std::string::npos) << log;
  grpc::ClientContext context;
  v1::ModelInfo info;
  ASSERT_TRUE(server.Ranker()->GetModelInfo(&context, v1::GetModelInfoRequest(), &info).ok());
  EXPECT_EQ(info.version(), 1u);
  EXPECT_EQ(Health(server), grpc::health::v1::HealthCheckResponse::SERVING);
}

TEST_F(ServerTest, SigtermLetsInFlightCallsFinish) {
  const std::string big = dir_.Sub("big");
  RunStoreTool({"demo", "--store=" + big, "--users=1000", "--items=200000", "--d=32",
                "--hidden=64,32", "--ratio=8"});
  // One stage, so that whole-catalogue calls stay slow (two stages take well under 1 ms).
  RunningServer server(big, {"--retrieve_n=0"});
  ASSERT_TRUE(server.ok());
  // Three clients keep whole-catalogue calls (tens of ms each) in flight, so some are inside
  // the server when SIGTERM arrives. Those must complete OK after the signal. Calls that had not
  // reached a handler when shutdown began are refused: UNAVAILABLE, or CANCELLED for one that
  // was queued in gRPC but not yet started; any other code would mean a call was cut off.
  std::atomic<bool> signalled{false};
  std::atomic<int> ok_after_signal{0}, refused{0}, other_failures{0}, completed{0};
  std::mutex failure_mu;
  std::string failure;
  std::vector<std::thread> clients;
  for (int t = 0; t < 3; ++t) {
    clients.emplace_back([&] {
      auto stub = server.Ranker();
      for (;;) {
        v1::RankResponse response;
        grpc::Status status = CallRank(*stub, Request(1, {}, 10), &response);
        completed++;
        if (status.ok()) {
          if (signalled.load()) ok_after_signal++;
          continue;
        }
        if (status.error_code() == grpc::StatusCode::UNAVAILABLE ||
            status.error_code() == grpc::StatusCode::CANCELLED) {
          refused++;
        } else {
          other_failures++;
          std::lock_guard<std::mutex> lock(failure_mu);
          failure = std::to_string(status.error_code()) + ": " + status.error_message();
        }
        break;
      }
    });
  }
  while (completed.load() < 6) std::this_thread::yield();
  signalled = true;
  server.process().Signal(SIGTERM);
  EXPECT_EQ(server.process().Wait(absl::Seconds(60)), 0) << server.process().Stderr();
  for (auto& c : clients) c.join();
  EXPECT_GE(ok_after_signal.load(), 1) << "no in-flight call completed after SIGTERM";
  EXPECT_EQ(other_failures.load(), 0) << failure;
  EXPECT_EQ(refused.load(), 3) << "each client ends on a refused call once the server is gone";
  EXPECT_NE(server.process().Stderr().find("SIGTERM"), std::string::npos);
}

}  // namespace
}  // namespace ranker
