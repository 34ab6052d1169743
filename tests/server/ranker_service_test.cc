// RankerService on its own (no transport): deadlines, limits and what gets scored.
#include "server/ranker_service.h"

#include <gtest/gtest.h>

#include "model/demo_model.h"
#include "tests/support/test_util.h"

namespace ranker {
namespace {

using ::ranker::testing::TempDir;

// Counts what the service reports.
class CountingObserver final : public RequestObserver {
 public:
  void OnRequest(RpcMethod, grpc::StatusCode code, double) override { ++codes[code]; }
  void OnRank(size_t candidates, const RankResult& result) override {
    ++scored;
    last_candidates = candidates;
    last = result;
  }
  void OnHistoryLookup(HistoryLookup) override {}
  std::map<grpc::StatusCode, int> codes;
  int scored = 0;
  size_t last_candidates = 0;
  RankResult last;
};

class RankerServiceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto primary = SnapshotStore::OpenPrimary(dir_.Sub("store"), {.create_if_missing = true});
    ASSERT_TRUE(primary.ok());
    DemoModelOptions options;
    options.users = 100;
    options.items = 80;
    options.d = 8;
    options.hidden = {8};
    options.ratio = 2;
    Snapshot snapshot = *MakeDemoSnapshot(options);
    ASSERT_TRUE((*primary)->Publish(snapshot).ok());
    primary->reset();
    auto store = SnapshotStore::OpenSecondary(dir_.Sub("store"));
    ASSERT_TRUE(store.ok());
    manager_ = std::make_unique<ModelManager>(*std::move(store), ModelManagerOptions());
    manager_->Poll();
    ASSERT_NE(manager_->Current(), nullptr);
  }

  static v1::RankRequest Request(uint32_t k) {
    v1::RankRequest request;
    request.set_user_id(3);
    request.set_k(k);
    return request;
  }

  TempDir dir_;
  std::unique_ptr<ModelManager> manager_;
  CountingObserver observer_;
};

TEST_F(RankerServiceTest, ExpiredDeadlineIsRefusedWithoutScoring) {
  RankerService service(manager_.get(), RankLimits(), &observer_);
  v1::RankResponse response;
  const auto past = std::chrono::system_clock::now() - std::chrono::milliseconds(1);
  const grpc::Status status = service.RankBefore(past, Request(5), &response);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::DEADLINE_EXCEEDED);
  EXPECT_EQ(observer_.scored, 0);
  EXPECT_EQ(response.items_size(), 0);

  const auto future = std::chrono::system_clock::now() + std::chrono::seconds(10);
  EXPECT_TRUE(service.RankBefore(future, Request(5), &response).ok());
  EXPECT_EQ(observer_.scored, 1);
  EXPECT_EQ(response.items_size(), 5);
  EXPECT_EQ(observer_.codes[grpc::StatusCode::DEADLINE_EXCEEDED], 1);
  EXPECT_EQ(observer_.codes[grpc::StatusCode::OK], 1);
}

TEST_F(RankerServiceTest, InvalidRequestsAreRefusedBeforeScoringAndCounted) {
  RankLimits limits;
  limits.max_k = 10;
  limits.max_candidates = 4;
  RankerService service(manager_.get(), limits, &observer_);
  const auto future = std::chrono::system_clock::now() + std::chrono::seconds(10);
  v1::RankResponse response;
  v1::RankRequest too_many = Request(2);
  for (uint64_t id : {1, 2, 3, 4, 5}) too_many.add_candidate_ids(id);
  v1::RankRequest pinned = Request(2);
  pinned.set_model_version(7);
  EXPECT_EQ(service.RankBefore(future, Request(0), &response).error_code(),
            grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(service.RankBefore(future, Request(11), &response).error_code(),
            grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(service.RankBefore(future, too_many, &response).error_code(),
            grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(service.RankBefore(future, pinned, &response).error_code(),
            grpc::StatusCode::NOT_FOUND);
  EXPECT_EQ(observer_.scored, 0);
  EXPECT_EQ(observer_.codes[grpc::StatusCode::INVALID_ARGUMENT], 3);
}

// The catalogue (80 items) against retrieve_n: the server default, the request's own, at
// least k, and one stage when N covers the pool; the response and the observer say which.
TEST_F(RankerServiceTest, RetrieveNChoosesTheStagesAndTheResponseSaysWhichRan) {
  RankLimits limits;
  limits.retrieve_n = 30;
  RankerService service(manager_.get(), limits, &observer_);
  const auto future = std::chrono::system_clock::now() + std::chrono::seconds(10);
  struct Case {
    uint32_t request_n, k;
    uint64_t retrieval_scored;
    uint32_t ranked, retrieve_n;
  };
  for (const Case& c : {Case{0, 5, 80, 30, 30}, Case{10, 5, 80, 10, 10}, Case{3, 5, 80, 5, 5},
                        Case{80, 5, 0, 80, 80}, Case{200, 5, 0, 80, 200}}) {
    SCOPED_TRACE(::testing::Message() << "request retrieve_n " << c.request_n << " k " << c.k);
    v1::RankRequest request = Request(c.k);
    request.set_retrieve_n(c.request_n);
    v1::RankResponse response;
    ASSERT_TRUE(service.RankBefore(future, request, &response).ok());
    EXPECT_EQ(response.items_size(), static_cast<int>(c.k));
    EXPECT_EQ(response.stages().retrieval_scored(), c.retrieval_scored);
    EXPECT_EQ(response.stages().ranked(), c.ranked);
    EXPECT_EQ(response.stages().retrieve_n(), c.retrieve_n);
    EXPECT_EQ(observer_.last.retrieval_scored, c.retrieval_scored);
    EXPECT_EQ(observer_.last.ranked, c.ranked);
    EXPECT_EQ(observer_.last_candidates, 80u);
  }
}

TEST_F(RankerServiceTest, ServerRetrieveNZeroRanksEverythingInOneStage) {
  RankLimits limits;
  limits.retrieve_n = 0;
  RankerService service(manager_.get(), limits, &observer_);
  v1::RankResponse one, two;
  const auto future = std::chrono::system_clock::now() + std::chrono::seconds(10);
  ASSERT_TRUE(service.RankBefore(future, Request(10), &one).ok());
  EXPECT_EQ(one.stages().retrieval_scored(), 0u);
  EXPECT_EQ(one.stages().ranked(), 80u);
  EXPECT_EQ(one.stages().retrieve_n(), 0u);
  // The request can still ask for two stages.
  v1::RankRequest request = Request(10);
  request.set_retrieve_n(20);
  ASSERT_TRUE(service.RankBefore(future, request, &two).ok());
  EXPECT_EQ(two.stages().retrieval_scored(), 80u);
  EXPECT_EQ(two.stages().ranked(), 20u);
}

}  // namespace
}  // namespace ranker
