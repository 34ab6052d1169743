// The one-machine event log on a real RocksDB history database: what Record applies, once per
// request id, under concurrency (group commit), across a reopen, and seeded from an older store.
#include "events/local_event_log.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <thread>

#include "tests/support/test_util.h"

namespace ranker {
namespace {

using ::ranker::testing::TempDir;
using ::testing::ElementsAre;

v1::UserInteractions Events(uint64_t user, std::vector<uint64_t> items) {
  v1::UserInteractions message;
  message.set_user_id(user);
  for (uint64_t item : items) {
    message.add_item_ids(item);
    message.add_timestamps_ms(1);
  }
  return message;
}

std::unique_ptr<HistoryStore> OpenDatabase(const std::string& path) {
  StoreOptions options;
  options.create_if_missing = true;
  auto store = HistoryStore::OpenWriter(path, options);
  EXPECT_TRUE(store.ok()) << store.status();
  return store.ok() ? *std::move(store) : nullptr;
}

std::vector<uint64_t> HistoryOf(const HistoryStore& store, uint64_t user) {
  std::vector<uint64_t> items;
  EXPECT_TRUE(store.Read(user, &items).ok());
  return items;
}

class LocalEventLogTest : public ::testing::Test {
 protected:
  void SetUp() override {
    store_ = OpenDatabase(dir_.Sub("histories"));
    ASSERT_NE(store_, nullptr);
    log_ = std::make_unique<LocalEventLog>(
        store_.get(), [] { return nullptr; }, LocalEventLogOptions{.history_cap = 5});
  }

  TempDir dir_;
  std::unique_ptr<HistoryStore> store_;
  std::unique_ptr<LocalEventLog> log_;
};

TEST_F(LocalEventLogTest, AppendsNewInteractionsNewestLastWithinTheCap) {
  auto first = log_->Record("", {Events(1, {1, 2, 3}), Events(2, {9})});
  ASSERT_TRUE(first.ok()) << first.status();
  EXPECT_EQ(first->recorded, 4u);
  EXPECT_EQ(first->users, 2u);
  EXPECT_EQ(first->duplicates, 0u);
  ASSERT_TRUE(log_->Record("", {Events(1, {2, 4})}).ok());
  EXPECT_THAT(HistoryOf(*store_, 1), ElementsAre(1, 3, 2, 4));
  ASSERT_TRUE(log_->Record("", {Events(1, {5, 6})}).ok());
  EXPECT_THAT(HistoryOf(*store_, 1), ElementsAre(3, 2, 4, 5, 6));  // cap 5: 1 dropped
  EXPECT_THAT(HistoryOf(*store_, 2), ElementsAre(9));
}

TEST_F(LocalEventLogTest, ARetriedRequestIdIsAcknowledgedAndAppliedOnce) {
  ASSERT_TRUE(log_->Record("req-1", {Events(1, {1, 2})}).ok());
  ASSERT_TRUE(log_->Record("req-2", {Events(1, {3})}).ok());
  auto retry = log_->Record("req-1", {Events(1, {1, 2})});
  ASSERT_TRUE(retry.ok());
  EXPECT_EQ(retry->recorded, 2u);
  EXPECT_EQ(retry->duplicates, 2u);
  // Applied again, 1 and 2 would have moved after 3.
  EXPECT_THAT(HistoryOf(*store_, 1), ElementsAre(1, 2, 3));
  EXPECT_TRUE(*store_->RecordedRequest("req-1"));
  EXPECT_FALSE(*store_->RecordedRequest("req-3"));
}

TEST_F(LocalEventLogTest, ConcurrentCallsEachApplyOnceAndInOrderPerCaller) {
  LocalEventLog log(
      store_.get(), [] { return nullptr; }, LocalEventLogOptions{.history_cap = 1000});
  constexpr int kThreads = 8, kCalls = 100;
  std::vector<std::thread> threads;
  std::atomic<uint64_t> duplicates{0}, failures{0};
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int c = 0; c < kCalls; ++c) {
        const std::string id = "t" + std::to_string(t) + "-" + std::to_string(c);
        // Each call twice, as a client retrying after a lost answer would.
        for (int attempt = 0; attempt < 2; ++attempt) {
          auto outcome = log.Record(id, {Events(t, {static_cast<uint64_t>(c)})});
          if (!outcome.ok()) ++failures;
          if (outcome.ok()) duplicates += outcome->duplicates;
        }
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  EXPECT_EQ(failures.load(), 0u);
  EXPECT_EQ(duplicates.load(), uint64_t{kThreads * kCalls});
  std::vector<uint64_t> expected(kCalls);
  for (int c = 0; c < kCalls; ++c) expected[c] = c;
  for (int t = 0; t < kThreads; ++t) EXPECT_EQ(HistoryOf(*store_, t), expected) << "user " << t;
}

TEST_F(LocalEventLogTest, WhatWasAcknowledgedSurvivesAReopen) {
  ASSERT_TRUE(log_->Record("r", {Events(7, {70, 71})}).ok());
  log_.reset();
  store_.reset();
  store_ = OpenDatabase(dir_.Sub("histories"));
  ASSERT_NE(store_, nullptr);
  EXPECT_THAT(HistoryOf(*store_, 7), ElementsAre(70, 71));
  EXPECT_TRUE(*store_->RecordedRequest("r"));
}

TEST_F(LocalEventLogTest, AUserNewToTheDatabaseContinuesTheOlderStoresHistory) {
  std::unique_ptr<HistoryStore> older = OpenDatabase(dir_.Sub("older"));
  ASSERT_TRUE(older->Append({{5, {50, 51}}, {6, {60}}}, 200).ok());
  LocalEventLog log(
      store_.get(), [&] { return older.get(); }, LocalEventLogOptions{});
  auto outcome = log.Record("", {Events(5, {52, 50})});
  ASSERT_TRUE(outcome.ok()) << outcome.status();
  EXPECT_THAT(HistoryOf(*store_, 5), ElementsAre(51, 52, 50));
  EXPECT_TRUE(HistoryOf(*store_, 6).empty());  // untouched users stay where they were
}

}  // namespace
}  // namespace ranker
