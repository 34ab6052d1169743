// Rank for history models with the store's histories: which history is used, what is excluded,
// the fallback, and a reader following appends — a real store, the service without transport.
#include "server/stored_histories.h"

#include <gtest/gtest.h>

#include <algorithm>

#include "model/demo_model.h"
#include "model_store/history_store.h"
#include "model_store/store_db.h"
#include "model_store/store_keys.h"
#include "rocksdb/db.h"
#include "server/ranker_service.h"
#include "tests/support/test_util.h"

namespace ranker {
namespace {

using ::ranker::testing::TempDir;

class LookupCounter final : public RequestObserver {
 public:
  void OnRequest(RpcMethod, grpc::StatusCode, double) override {}
  void OnRank(size_t, const RankResult&) override {}
  void OnHistoryLookup(HistoryLookup result) override { ++lookups[result]; }
  std::map<HistoryLookup, int> lookups;
};

std::vector<uint64_t> Ids(const v1::RankResponse& response) {
  std::vector<uint64_t> ids;
  for (const v1::ScoredItem& item : response.items()) ids.push_back(item.item_id());
  return ids;
}

class StoredHistoryRankTest : public ::testing::Test {
 protected:
  void SetUp() override {
    DemoModelOptions options;
    options.user_mode = snapshot::USER_MODE_HISTORY;
    options.users = 100;
    options.items = 60;
    options.d = 8;
    options.hidden = {8};
    options.ratio = 2;
    {
      auto primary = SnapshotStore::OpenPrimary(path(), {.create_if_missing = true});
      ASSERT_TRUE(primary.ok());
      Snapshot snapshot = *MakeDemoSnapshot(options);
      ASSERT_TRUE((*primary)->Publish(snapshot).ok());
    }
    Append({{5, {10, 11, 12}}, {6, {}}});
    auto store = SnapshotStore::OpenSecondary(path());
    ASSERT_TRUE(store.ok());
    manager_ = std::make_unique<ModelManager>(*std::move(store), ModelManagerOptions());
    manager_->Poll();
    ASSERT_NE(manager_->Current(), nullptr);
    histories_ = std::make_unique<StoredHistories>(path(), 1 << 20);
    ASSERT_TRUE(histories_->Refresh().ok());
  }

  std::string path() const { return dir_.Sub("store"); }
  void Append(const std::vector<UserHistory>& histories) {
    auto writer = HistoryStore::OpenWriter(path());
    ASSERT_TRUE(writer.ok()) << writer.status();
    ASSERT_TRUE((*writer)->Append(histories, 200).ok());
  }
  v1::RankResponse Rank(const v1::RankRequest& request, RankLimits limits = {}) {
    RankerService service(manager_.get(), limits, &observer_, histories_.get());
    v1::RankResponse response;
    const grpc::Status status = service.RankBefore(
        std::chrono::system_clock::now() + std::chrono::seconds(10), request, &response);
    EXPECT_TRUE(status.ok()) << status.error_message();
    return response;
  }
  static v1::RankRequest Request(uint64_t user, std::vector<uint64_t> history = {}) {
    v1::RankRequest request;
    request.set_user_id(user);
    request.set_k(60);
    for (uint64_t id : history) request.add_history_ids(id);
    return request;
  }

  TempDir dir_;
  std::unique_ptr<ModelManager> manager_;
  std::unique_ptr<StoredHistories> histories_;
  LookupCounter observer_;
};

TEST_F(StoredHistoryRankTest, AStoredHistoryRanksLikeTheSameHistorySentInTheRequest) {
  const v1::RankResponse stored = Rank(Request(5));
  EXPECT_EQ(stored.history_source(), v1::HISTORY_SOURCE_STORED);
  EXPECT_EQ(stored.history_length(), 3u);
  EXPECT_FALSE(stored.popularity());
  const v1::RankResponse sent = Rank(Request(77, {10, 11, 12}));
  EXPECT_EQ(sent.history_source(), v1::HISTORY_SOURCE_REQUEST);
  ASSERT_EQ(Ids(stored), Ids(sent));
  for (int i = 0; i < stored.items_size(); ++i) {
    EXPECT_EQ(stored.items(i).score(), sent.items(i).score());
  }
  const std::vector<uint64_t> ids = Ids(stored);
  for (uint64_t seen : {10, 11, 12}) {
    EXPECT_EQ(std::count(ids.begin(), ids.end(), seen), 0) << seen;
  }
  EXPECT_EQ(stored.items_size(), 57);
  EXPECT_EQ(observer_.lookups[HistoryLookup::kFound], 1);
}

TEST_F(StoredHistoryRankTest, ARequestHistoryOverridesTheStoredOne) {
  const v1::RankResponse response = Rank(Request(5, {20, 21}));
  EXPECT_EQ(response.history_source(), v1::HISTORY_SOURCE_REQUEST);
  EXPECT_EQ(response.history_length(), 2u);
  const std::vector<uint64_t> ids = Ids(response);
  // The stored items are not seen in this request, so they may be returned; the sent ones not.
  EXPECT_EQ(ids.size(), 58u);
  EXPECT_EQ(std::count(ids.begin(), ids.end(), 20), 0);
  EXPECT_EQ(std::count(ids.begin(), ids.end(), 10), 1);
  EXPECT_TRUE(observer_.lookups.empty());  // the store was not read
}

TEST_F(StoredHistoryRankTest, NoStoredHistoryFallsBackToPopularityAndSaysSo) {
  for (uint64_t user : {6, 999}) {  // stored empty, never stored
    const v1::RankResponse response = Rank(Request(user));
    EXPECT_EQ(response.history_source(), v1::HISTORY_SOURCE_NONE) << user;
    EXPECT_TRUE(response.popularity());
    EXPECT_EQ(response.history_length(), 0u);
    ASSERT_GE(response.items_size(), 3);
    EXPECT_EQ(Ids(response)[0], 0u);  // the demo's popularity falls with the item id
  }
  EXPECT_EQ(observer_.lookups[HistoryLookup::kAbsent], 2);
}

TEST_F(StoredHistoryRankTest, OnlyTheNewestMaxHistoryItemsArePooledButAllAreExcluded) {
  std::vector<uint64_t> long_history;
  for (uint64_t id = 0; id < 30; ++id) long_history.push_back(id);
  Append({{8, long_history}});
  ASSERT_TRUE(histories_->Refresh().ok());
  RankLimits limits;
  limits.max_history = 10;
  const v1::RankResponse response = Rank(Request(8), limits);
  EXPECT_EQ(response.history_source(), v1::HISTORY_SOURCE_STORED);
  EXPECT_EQ(response.history_length(), 10u);
  EXPECT_EQ(response.items_size(), 30);
  for (uint64_t id : Ids(response)) EXPECT_GE(id, 30u);
  // The same ranking as pooling the newest 10 and excluding the rest by hand.
  v1::RankRequest by_hand = Request(77, {20, 21, 22, 23, 24, 25, 26, 27, 28, 29});
  for (uint64_t id = 0; id < 20; ++id) by_hand.add_exclude_ids(id);
  EXPECT_EQ(Ids(Rank(by_hand)), Ids(response));
}

TEST_F(StoredHistoryRankTest, ADamagedStoredHistoryCostsTheUserTheirHistoryNotTheRequest) {
  {
    auto store_db = StoreDb::Open(path(), {}, StoreDb::Role::kPrimary);
    ASSERT_TRUE(store_db.ok()) << store_db.status();
    ASSERT_TRUE((*store_db)
                    ->db()
                    ->Put(rocksdb::WriteOptions(), (*store_db)->history_family(),
                          store_keys::HistoryKey(11), "not whole ids")
                    .ok());
    ASSERT_TRUE((*store_db)->db()->Flush({}, (*store_db)->history_family()).ok());
  }
  ASSERT_TRUE(histories_->Refresh().ok());
  const v1::RankResponse response = Rank(Request(11));
  EXPECT_EQ(response.history_source(), v1::HISTORY_SOURCE_NONE);
  EXPECT_TRUE(response.popularity());
  EXPECT_EQ(response.items_size(), 60);
  EXPECT_EQ(observer_.lookups[HistoryLookup::kError], 1);
  EXPECT_EQ(Rank(Request(5)).history_source(), v1::HISTORY_SOURCE_STORED);  // others unaffected
}

TEST_F(StoredHistoryRankTest, AppendedHistoriesAreUsedAfterTheNextRefresh) {
  Append({{9, {30, 31}}});
  EXPECT_EQ(Rank(Request(9)).history_source(), v1::HISTORY_SOURCE_NONE);
  ASSERT_TRUE(histories_->Refresh().ok());
  const v1::RankResponse response = Rank(Request(9));
  EXPECT_EQ(response.history_source(), v1::HISTORY_SOURCE_STORED);
  EXPECT_EQ(response.history_length(), 2u);
}

TEST(StoredHistoriesTest, AStoreWithoutHistoriesIsUnavailableUntilItHasThem) {
  TempDir dir;
  StoredHistories histories(dir.Sub("store"), 0);
  std::vector<uint64_t> items = {1};
  EXPECT_FALSE(histories.Refresh().ok());  // no store at all yet
  EXPECT_EQ(histories.Read(1, &items), HistoryLookup::kUnavailable);
  EXPECT_TRUE(items.empty());
  auto writer = HistoryStore::OpenWriter(dir.Sub("store"), {.create_if_missing = true});
  ASSERT_TRUE(writer.ok());
  ASSERT_TRUE((*writer)->Append({{1, {4}}}, 10).ok());
  ASSERT_TRUE(histories.Refresh().ok());
  EXPECT_EQ(histories.Read(1, &items), HistoryLookup::kFound);
  EXPECT_EQ(items, std::vector<uint64_t>{4});
}

}  // namespace
}  // namespace ranker
