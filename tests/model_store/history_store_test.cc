// Stored user histories on a real RocksDB store: merge rules, caps, malformed values, and a
// reader (secondary) following a writer (primary).
#include "model_store/history_store.h"

#include <gtest/gtest.h>

#include "model_store/snapshot_store.h"
#include "model_store/store_keys.h"
#include "rocksdb/db.h"
#include "tests/support/test_util.h"

namespace ranker {
namespace {

using ::ranker::testing::TempDir;
using Items = std::vector<uint64_t>;

TEST(MergeHistoryTest, KeepsTheNewestDistinctItemsInOrderOfTheirLatestOccurrence) {
  EXPECT_EQ(MergeHistory({1, 2, 3}, {4, 2}, 10), (Items{1, 3, 4, 2}));
  EXPECT_EQ(MergeHistory({1, 2, 3}, {4, 2}, 2), (Items{4, 2}));
  EXPECT_EQ(MergeHistory({}, {5, 5, 6, 5}, 10), (Items{6, 5}));
  EXPECT_EQ(MergeHistory({7, 8}, {}, 1),
            (Items{8}));  // Appending the same items again changes nothing.
  const Items once = MergeHistory({1, 2, 3}, {3, 9, 1}, 4);
  EXPECT_EQ(MergeHistory(once, {3, 9, 1}, 4), once);
}

TEST(MergeHistoryTest, AddMissingLeavesStoredItemsInPlace) {
  // A training log repeating items 1 and 2 must not push the newer 3 back.
  EXPECT_EQ(MergeHistory({1, 2, 3}, {1, 2, 4}, 10, AppendMode::kAddMissing), (Items{1, 2, 3, 4}));
  EXPECT_EQ(MergeHistory({1, 2, 3}, {1, 2, 4}, 2, AppendMode::kAddMissing), (Items{3, 4}));
  EXPECT_EQ(MergeHistory({}, {5, 6, 5}, 10, AppendMode::kAddMissing), (Items{6, 5}));
  const Items once = MergeHistory({7}, {1, 2}, 10, AppendMode::kAddMissing);
  EXPECT_EQ(MergeHistory(once, {1, 2}, 10, AppendMode::kAddMissing), once);
}

TEST(HistoryEncodingTest, RoundTripsAndRefusesPartialIds) {
  const Items items = {0, 1, 0xFFFFFFFFFFFFFFFFull, 1234567890123ull};
  const std::string value = EncodeHistory(items);
  ASSERT_EQ(value.size(), 32u);
  EXPECT_EQ(static_cast<unsigned char>(value[8]), 1);  // little-endian
  Items decoded;
  ASSERT_TRUE(DecodeHistory(value.data(), value.size(), &decoded));
  EXPECT_EQ(decoded, items);
  EXPECT_FALSE(DecodeHistory(value.data(), 31, &decoded));
}

class HistoryStoreTest : public ::testing::Test {
 protected:
  std::string path() const { return dir_.Sub("store"); }
  std::unique_ptr<HistoryStore> Writer() {
    auto writer = HistoryStore::OpenWriter(path(), {.create_if_missing = true});
    EXPECT_TRUE(writer.ok()) << writer.status();
    return writer.ok() ? *std::move(writer) : nullptr;
  }
  TempDir dir_;
};

TEST_F(HistoryStoreTest, AppendsMergesAndCapsPerUser) {
  auto writer = Writer();
  ASSERT_NE(writer, nullptr);
  auto stats = writer->Append({{7, {1, 2, 3}}, {3, {10}}, {7, {4}}}, 3);
  ASSERT_TRUE(stats.ok()) << stats.status();
  EXPECT_EQ(stats->users, 2u);
  EXPECT_EQ(stats->new_users, 2u);
  EXPECT_EQ(stats->items_read, 5u);
  Items items;
  ASSERT_TRUE(writer->Read(7, &items).ok());
  EXPECT_EQ(items, (Items{2, 3, 4}));  // capped at the newest 3
  ASSERT_TRUE(writer->Append({{7, {2, 5}}}, 3).ok());
  ASSERT_TRUE(writer->Read(7, &items).ok());
  EXPECT_EQ(items, (Items{4, 2, 5}));
  ASSERT_TRUE(writer->Read(3, &items).ok());
  EXPECT_EQ(items, (Items{10}));
  ASSERT_TRUE(writer->Read(99, &items).ok());
  EXPECT_TRUE(items.empty());
  // A user without items is not written at all.
  stats = writer->Append({{50, {}}}, 3);
  ASSERT_TRUE(stats.ok());
  EXPECT_EQ(stats->users, 0u);
  EXPECT_EQ(writer->Append({{1, {1}}}, 0).status().code(), absl::StatusCode::kInvalidArgument);
}

TEST_F(HistoryStoreTest, AReaderSeesAppendsAfterCatchingUpAndSharesTheStoreWithModels) {
  ASSERT_TRUE(Writer()->Append({{1, {5}}}, 10).ok());
  auto reader = HistoryStore::OpenReader(path(), 1 << 20);
  ASSERT_TRUE(reader.ok()) << reader.status();
  // Snapshots and histories live side by side: a snapshot reader opens the same store.
  EXPECT_TRUE(SnapshotStore::OpenSecondary(path()).ok());

  auto writer = Writer();  // a second writer process, while the reader stays open
  ASSERT_TRUE(writer->Append({{1, {6}}, {2, {7, 8}}}, 10).ok());
  Items items;
  ASSERT_TRUE((*reader)->Read(2, &items).ok());
  EXPECT_TRUE(items.empty());  // not caught up yet
  ASSERT_TRUE((*reader)->CatchUp().ok());
  ASSERT_TRUE((*reader)->Read(2, &items).ok());
  EXPECT_EQ(items, (Items{7, 8}));
  ASSERT_TRUE((*reader)->Read(1, &items).ok());
  EXPECT_EQ(items, (Items{5, 6}));
  auto stats = (*reader)->Stats();
  ASSERT_TRUE(stats.ok());
  EXPECT_GE(stats->users, 2u);  // RocksDB's estimate counts overwritten values too
  EXPECT_GT(stats->table_bytes, 0u);
}

TEST_F(HistoryStoreTest, AMalformedValueIsDataLossForItsUserOnlyAndTheNextAppendReplacesIt) {
  {
    auto store_db = StoreDb::Open(path(), {.create_if_missing = true}, StoreDb::Role::kPrimary);
    ASSERT_TRUE(store_db.ok()) << store_db.status();
    ASSERT_TRUE((*store_db)
                    ->db()
                    ->Put(rocksdb::WriteOptions(), (*store_db)->history_family(),
                          store_keys::HistoryKey(4), "12345")
                    .ok());
  }
  auto writer = Writer();
  ASSERT_TRUE(writer->Append({{5, {1}}}, 10).ok());
  Items items;
  const absl::Status status = writer->Read(4, &items);
  EXPECT_EQ(status.code(), absl::StatusCode::kDataLoss);
  EXPECT_NE(status.message().find("user 4"), std::string::npos) << status;
  ASSERT_TRUE(writer->Read(5, &items).ok());
  EXPECT_EQ(items, (Items{1}));
  auto stats = writer->Append({{4, {8, 9}}}, 10);
  ASSERT_TRUE(stats.ok()) << stats.status();
  EXPECT_EQ(stats->replaced_malformed, 1u);
  ASSERT_TRUE(writer->Read(4, &items).ok());
  EXPECT_EQ(items, (Items{8, 9}));
}

TEST_F(HistoryStoreTest, AStoreFromBeforeHistoriesGainsTheFamilyAtItsNextReadWriteOpen) {
  // A store as older versions made it: the default and tensor families only.
  {
    rocksdb::DBOptions options;
    options.create_if_missing = true;
    options.create_missing_column_families = true;
    std::vector<rocksdb::ColumnFamilyDescriptor> families = {
        {rocksdb::kDefaultColumnFamilyName, {}}, {store_keys::kTensorColumnFamily, {}}};
    std::vector<rocksdb::ColumnFamilyHandle*> handles;
    rocksdb::DB* db = nullptr;
    ASSERT_TRUE(rocksdb::DB::Open(options, path(), families, &handles, &db).ok());
    ASSERT_TRUE(db->Put({}, handles[0], store_keys::kFormatKey, store_keys::kStoreFormat).ok());
    for (auto* handle : handles) db->DestroyColumnFamilyHandle(handle);
    delete db;
  }
  auto reader = HistoryStore::OpenReader(path());
  EXPECT_EQ(reader.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_NE(reader.status().message().find("no stored histories yet"), std::string::npos);
  EXPECT_TRUE(SnapshotStore::OpenSecondary(path()).ok());  // models are still readable

  ASSERT_TRUE(SnapshotStore::OpenPrimary(path()).ok());  // any read-write open adds it
  reader = HistoryStore::OpenReader(path());
  ASSERT_TRUE(reader.ok()) << reader.status();
  Items items;
  EXPECT_TRUE((*reader)->Read(1, &items).ok());
  EXPECT_TRUE(items.empty());
}

TEST_F(HistoryStoreTest, ReaderCannotAppend) {
  ASSERT_NE(Writer(), nullptr);
  auto reader = HistoryStore::OpenReader(path());
  ASSERT_TRUE(reader.ok());
  EXPECT_EQ((*reader)->Append({{1, {1}}}, 10).status().code(),
            absl::StatusCode::kFailedPrecondition);
}

}  // namespace
}  // namespace ranker

namespace ranker {
namespace {

TEST(HistoryEventsTest, AppliesHistoriesRequestIdsAndTheLogSequenceTogether) {
  testing::TempDir dir;
  auto store = HistoryStore::OpenWriter(dir.Sub("h"), {.create_if_missing = true});
  ASSERT_TRUE(store.ok()) << store.status();
  EXPECT_EQ(*(*store)->AppliedSequence(), 0u);
  EventBatch batch;
  batch.users = {{3, {1, 2}}, {1, {5}}, {3, {1}}};
  batch.request_ids = {"a", "b"};
  batch.log_sequence = 42;
  batch.recorded_unix_ms = 1000;
  auto stats = (*store)->ApplyEvents(batch, 10);
  ASSERT_TRUE(stats.ok()) << stats.status();
  EXPECT_EQ(stats->users, 2u);
  EXPECT_EQ(stats->items_read, 4u);
  EXPECT_EQ(*(*store)->AppliedSequence(), 42u);
  EXPECT_TRUE(*(*store)->RecordedRequest("b"));
  std::vector<std::pair<uint64_t, std::vector<uint64_t>>> all;
  ASSERT_TRUE((*store)
                  ->ForEach([&](uint64_t user, const std::vector<uint64_t>& items) {
                    all.emplace_back(user, items);
                    return absl::OkStatus();
                  })
                  .ok());
  ASSERT_EQ(all.size(), 2u);
  EXPECT_EQ(all[0], (std::pair<uint64_t, std::vector<uint64_t>>{1, {5}}));
  EXPECT_EQ(all[1], (std::pair<uint64_t, std::vector<uint64_t>>{3, {2, 1}}));
  // Ids recorded before the cut are forgotten; later ones stay.
  EventBatch later;
  later.request_ids = {"c"};
  later.recorded_unix_ms = 5000;
  ASSERT_TRUE((*store)->ApplyEvents(later, 10).ok());
  EXPECT_EQ(*(*store)->PruneRequests(2000), 2u);
  EXPECT_FALSE(*(*store)->RecordedRequest("a"));
  EXPECT_TRUE(*(*store)->RecordedRequest("c"));
  EXPECT_EQ(*(*store)->AppliedSequence(), 42u);  // a batch without a sequence keeps the last
}

}  // namespace
}  // namespace ranker
