// The request checks RankerService runs before scoring: limits first, then (under kReject)
// the ids against the model's vocabulary.
#include "server/rank_request.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstdint>
#include <limits>
#include <memory>
#include <string>
#include <vector>

#include "model/demo_model.h"

namespace ranker {
namespace {

using ::testing::HasSubstr;

constexpr uint64_t kUsers = 100;  // dense user ids 0..99
constexpr uint64_t kItems = 60;   // sparse item ids 7 * i + 3, i < 60
constexpr uint64_t kModelVersion = 3;

uint64_t ItemId(uint64_t index) { return 7 * index + 3; }

std::vector<uint64_t> KnownItems(size_t count) {
  std::vector<uint64_t> ids;
  for (size_t i = 0; i < count; ++i) ids.push_back(ItemId(i % kItems));
  return ids;
}

std::unique_ptr<const Model> SmallModel() {
  DemoModelOptions options;
  options.users = kUsers;
  options.items = kItems;
  options.d = 8;
  options.hidden = {8};
  options.ratio = 2;
  options.sparse_item_ids = true;
  absl::StatusOr<Snapshot> snapshot = MakeDemoSnapshot(options);
  EXPECT_TRUE(snapshot.ok()) << snapshot.status();
  snapshot->manifest.set_version(kModelVersion);
  auto model = Model::Create(snapshot->manifest, std::move(snapshot->tensors));
  EXPECT_TRUE(model.ok()) << model.status();
  return *std::move(model);
}

struct Case {
  std::string name;
  uint64_t user_id;
  std::vector<uint64_t> candidates;
  uint32_t k;
  UnknownIdPolicy policy;
  absl::StatusCode code;
  std::string message;  // a fragment of the error; empty for OK
};

constexpr auto kReject = UnknownIdPolicy::kReject;
constexpr auto kFallback = UnknownIdPolicy::kFallback;
constexpr auto kOk = absl::StatusCode::kOk;
constexpr auto kInvalid = absl::StatusCode::kInvalidArgument;
constexpr uint64_t kHugeId = std::numeric_limits<uint64_t>::max();

std::vector<Case> Cases() {
  return {
      {"k zero", 1, KnownItems(5), 0, kFallback, kInvalid, "k must be at least 1"},
      {"k one", 1, KnownItems(5), 1, kReject, kOk, ""},
      {"k at max_k", 1, KnownItems(5), 50, kReject, kOk, ""},
      {"k above max_k", 1, KnownItems(5), 51, kFallback, kInvalid,
       "k = 51 exceeds the server's max_k = 50"},
      {"k above max_k checked before ids", kHugeId, {4}, 51, kReject, kInvalid, "max_k = 50"},
      {"no candidates ranks the catalogue", 1, {}, 10, kReject, kOk, ""},
      {"exactly max_candidates", 1, KnownItems(20), 10, kReject, kOk, ""},
      {"one over max_candidates", 1, KnownItems(21), 10, kFallback, kInvalid,
       "21 candidates exceed the server's max_candidates = 20"},
      {"duplicates count toward max_candidates", 1, std::vector<uint64_t>(21, ItemId(0)), 10,
       kFallback, kInvalid, "21 candidates exceed"},
      {"too many candidates checked before ids", kHugeId, std::vector<uint64_t>(25, 4), 10, kReject,
       kInvalid, "25 candidates exceed"},
      {"last known user", kUsers - 1, KnownItems(3), 10, kReject, kOk, ""},
      {"unknown user rejected", kUsers, KnownItems(3), 10, kReject, kInvalid,
       "user_id 100 is unknown to model version 3"},
      {"huge unknown user rejected", kHugeId, KnownItems(3), 10, kReject, kInvalid,
       "user_id 18446744073709551615 is unknown"},
      {"unknown user with fallback", kUsers, KnownItems(3), 10, kFallback, kOk, ""},
      {"unknown user named before unknown items", kUsers, {4}, 10, kReject, kInvalid, "user_id"},
      {"last known item", 1, {ItemId(kItems - 1)}, 10, kReject, kOk, ""},
      {"unknown item rejected",
       1,
       {ItemId(0), ItemId(1) + 1, ItemId(2)},
       10,
       kReject,
       kInvalid,
       "candidate item 11 is unknown to model version 3"},
      {"the first unknown item in request order is named, not the smallest",
       1,
       {ItemId(0), 9, 5},
       10,
       kReject,
       kInvalid,
       "candidate item 9 "},
      {"first unknown item named",
       1,
       {ItemId(0), 5, 6},
       10,
       kReject,
       kInvalid,
       "candidate item 5 "},
      {"item past the catalogue rejected",
       1,
       {ItemId(kItems)},
       10,
       kReject,
       kInvalid,
       "candidate item 423 "},
      {"unknown items with fallback", 1, {4, 5, ItemId(kItems)}, 10, kFallback, kOk, ""},
  };
}

// The model checks, as the service runs them: the request's shape, then Rank refusing unknown
// ids under kReject.
absl::Status FitsModel(const Model& model, const v1::RankRequest& request, UnknownIdPolicy policy) {
  absl::Status status = CheckRequestFitsModel(request, model);
  if (!status.ok()) return status;
  RankLimits limits;
  limits.unknown_ids = policy;
  const RankQuery query = MakeRankQuery(request, limits, {});
  RankScratch scratch;
  RankResult result;
  model.Rank(query, &scratch, &result);
  if (result.refused) return RefusedIdError(*result.refused, model);
  EXPECT_FALSE(result.items.empty());
  return absl::OkStatus();
}

class RankRequestTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { model_ = SmallModel().release(); }
  static void TearDownTestSuite() {
    delete model_;
    model_ = nullptr;
  }

  // What RankerService does before scoring.
  static absl::Status Validate(const Case& c) {
    v1::RankRequest request;
    request.set_user_id(c.user_id);
    request.set_k(c.k);
    for (uint64_t id : c.candidates) request.add_candidate_ids(id);
    RankLimits limits;
    limits.max_k = 50;
    limits.max_candidates = 20;
    limits.unknown_ids = c.policy;
    absl::Status status = ValidateRankRequest(request, limits);
    if (!status.ok()) return status;
    return FitsModel(*model_, request, limits.unknown_ids);
  }

  static const Model* model_;
};

const Model* RankRequestTest::model_ = nullptr;

TEST_F(RankRequestTest, Cases) {
  ASSERT_NE(model_, nullptr);
  ASSERT_EQ(model_->version(), kModelVersion);
  for (const Case& c : Cases()) {
    SCOPED_TRACE(c.name);
    const absl::Status status = Validate(c);
    EXPECT_EQ(status.code(), c.code) << status;
    if (c.code != kOk) {
      EXPECT_THAT(std::string(status.message()), HasSubstr(c.message));
    }
  }
}

TEST_F(RankRequestTest, FallbackAcceptsAnyIds) {
  v1::RankRequest request;
  request.set_user_id(kHugeId);
  request.add_candidate_ids(kHugeId);
  request.set_k(1);
  EXPECT_TRUE(FitsModel(*model_, request, kFallback).ok());
  EXPECT_EQ(FitsModel(*model_, request, kReject).code(), kInvalid);
}

TEST(RankLimitsTest, DefaultsMatchTheDocumentedLimits) {
  const RankLimits limits;
  EXPECT_EQ(limits.max_k, 1000u);
  EXPECT_EQ(limits.max_candidates, 10000u);
  EXPECT_EQ(limits.unknown_ids, kFallback);
  v1::RankRequest request;
  request.set_k(1000);
  for (int i = 0; i < 10000; ++i) request.add_candidate_ids(static_cast<uint64_t>(i));
  EXPECT_TRUE(ValidateRankRequest(request, limits).ok());
  request.add_candidate_ids(0);
  EXPECT_EQ(ValidateRankRequest(request, limits).code(), kInvalid);
  request.mutable_candidate_ids()->RemoveLast();
  request.set_k(1001);
  EXPECT_EQ(ValidateRankRequest(request, limits).code(), kInvalid);
}

TEST(RankLimitsTest, RetrieveNIsBoundedByMaxRetrieveN) {
  RankLimits limits;
  EXPECT_EQ(limits.retrieve_n, 500u);
  EXPECT_EQ(limits.max_retrieve_n, 100000u);
  limits.max_retrieve_n = 50;
  v1::RankRequest request;
  request.set_k(5);
  for (uint32_t n : {0u, 1u, 50u}) {
    request.set_retrieve_n(n);
    EXPECT_TRUE(ValidateRankRequest(request, limits).ok()) << n;
  }
  request.set_retrieve_n(51);
  const absl::Status status = ValidateRankRequest(request, limits);
  EXPECT_EQ(status.code(), kInvalid);
  EXPECT_THAT(std::string(status.message()),
              HasSubstr("retrieve_n = 51 exceeds the server's max_retrieve_n = 50"));
}

}  // namespace
}  // namespace ranker

namespace ranker {
namespace {

// History fields: bounded counts; history ids only for history models, where unknown history
// ids are never refused (counted and ignored) and the user id is not checked.
TEST(HistoryRequestTest, HistoryIdsNeedAHistoryModelAndRespectTheLimits) {
  RankLimits limits;
  limits.max_candidates = 3;
  limits.max_history_ids = 2;
  limits.unknown_ids = UnknownIdPolicy::kReject;
  v1::RankRequest request;
  request.set_k(1);
  request.set_user_id(99999);
  request.add_history_ids(ItemId(0));
  request.add_history_ids(424242);  // unknown
  EXPECT_TRUE(ValidateRankRequest(request, limits).ok());
  request.add_history_ids(ItemId(1));
  absl::Status status = ValidateRankRequest(request, limits);
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(status.message()), HasSubstr("3 history_ids exceed"));
  EXPECT_THAT(std::string(status.message()), HasSubstr("max_history_ids = 2"));
  request.mutable_history_ids()->RemoveLast();
  for (int i = 0; i < 4; ++i) request.add_exclude_ids(ItemId(i));
  status = ValidateRankRequest(request, limits);
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(status.message()), HasSubstr("4 exclude_ids exceed"));
  request.clear_exclude_ids();

  // An id model refuses any history, whatever the unknown-id policy.
  std::unique_ptr<const Model> id_model = SmallModel();
  for (UnknownIdPolicy policy : {UnknownIdPolicy::kReject, UnknownIdPolicy::kFallback}) {
    status = FitsModel(*id_model, request, policy);
    EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
    EXPECT_THAT(std::string(status.message()),
                HasSubstr("model version 3 ranks by user id (user_mode=id): history_ids need a "
                          "history model"));
  }

  // A history model takes it: unknown user and unknown history id are fine under kReject.
  DemoModelOptions options;
  options.user_mode = snapshot::USER_MODE_HISTORY;
  options.users = kUsers;
  options.items = kItems;
  options.d = 8;
  options.hidden = {8};
  options.ratio = 2;
  options.sparse_item_ids = true;
  Snapshot snapshot = *MakeDemoSnapshot(options);
  auto history_model = Model::Create(snapshot.manifest, std::move(snapshot.tensors));
  ASSERT_TRUE(history_model.ok()) << history_model.status();
  EXPECT_TRUE(FitsModel(**history_model, request, UnknownIdPolicy::kReject).ok());
  // Candidates are still checked under kReject.
  request.add_candidate_ids(424242);
  status = FitsModel(**history_model, request, UnknownIdPolicy::kReject);
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(status.message()), HasSubstr("candidate item 424242 is unknown"));
}

}  // namespace
}  // namespace ranker

namespace ranker {
namespace {

TEST(MakeRankQueryTest, RetrievalKeepsAtLeastKAndStoredHistoryOnlyWithoutRequestHistory) {
  v1::RankRequest request;
  request.set_k(30);
  request.set_retrieve_n(10);
  RankLimits limits;
  const std::vector<uint64_t> stored = {4, 5};
  RankQuery query = MakeRankQuery(request, limits, stored);
  EXPECT_EQ(query.retrieve_n, 30u);  // never fewer than k
  EXPECT_EQ(query.history.size(), 2u);
  EXPECT_EQ(HistorySourceOf(request, true), v1::HISTORY_SOURCE_STORED);
  EXPECT_EQ(HistorySourceOf(request, false), v1::HISTORY_SOURCE_NONE);
  request.add_history_ids(9);
  query = MakeRankQuery(request, limits, stored);
  ASSERT_EQ(query.history.size(), 1u);
  EXPECT_EQ(query.history[0], 9u);
  EXPECT_EQ(HistorySourceOf(request, true), v1::HISTORY_SOURCE_REQUEST);
  request.set_retrieve_n(0);
  limits.retrieve_n = 0;
  EXPECT_EQ(MakeRankQuery(request, limits, {}).retrieve_n, 0u);  // one stage
  limits.retrieve_n = 500;
  limits.max_history = 7;
  limits.unknown_ids = UnknownIdPolicy::kReject;
  query = MakeRankQuery(request, limits, {});
  EXPECT_EQ(query.retrieve_n, 500u);
  EXPECT_EQ(query.max_history, 7u);
  EXPECT_TRUE(query.refuse_unknown);
}

}  // namespace
}  // namespace ranker
