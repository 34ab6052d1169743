// Histories are the most recent items in time order, not in index order: the split keeps the
// time order, RecentHistory caps it (training: training items; test: training then validation
// items), and the trainer's history encoder pools exactly that window minus the positive.
#include "trainer/user_encoder.h"

#include <gtest/gtest.h>

#include <array>
#include <vector>

#include "interactions/interactions.h"
#include "model/table_sizing.h"
#include "trainer/split.h"
#include "trainer/trainable_table.h"

namespace ranker {
namespace {

// One user, items 0..9 seen at times that do not follow the item index: item i at time
// kTimes[i]. Time order: 7, 2, 9, 0, 5, 3, 8 (training), 1 (validation), 4, 6 (test).
constexpr std::array<int, 10> kTimes = {4, 8, 2, 6, 9, 5, 10, 1, 7, 3};

Split OneUserSplit() {
  std::vector<std::array<double, 4>> raw;
  for (int i = 0; i < 10; ++i) raw.push_back({0, double(i), 1, 100.0 + kTimes[i]});
  return SplitPerUser(MakeDataset("times", raw, true));
}

TEST(HistoryWindowTest, SplitKeepsTimeOrderBesideTheSortedParts) {
  const Split split = OneUserSplit();
  const UserSplit& user = split.users[0];
  EXPECT_EQ(user.train, (std::vector<uint32_t>{0, 2, 3, 5, 7, 8, 9}));
  EXPECT_EQ(user.train_in_time, (std::vector<uint32_t>{7, 2, 9, 0, 5, 3, 8}));
  EXPECT_EQ(user.validation_in_time, (std::vector<uint32_t>{1}));
  EXPECT_EQ(user.test, (std::vector<uint32_t>{4, 6}));
}

TEST(HistoryWindowTest, RecentHistoryKeepsTheNewestOldestFirst) {
  const UserSplit user = OneUserSplit().users[0];
  EXPECT_EQ(RecentHistory(user, false, 3), (std::vector<uint32_t>{5, 3, 8}));
  EXPECT_EQ(RecentHistory(user, true, 3), (std::vector<uint32_t>{3, 8, 1}));
  EXPECT_EQ(RecentHistory(user, false, 0), user.train_in_time);  // 0: no cap
  EXPECT_EQ(RecentHistory(user, true, 100), (std::vector<uint32_t>{7, 2, 9, 0, 5, 3, 8, 1}));
}

TEST(HistoryWindowTest, EncoderPoolsTheRecentWindowMinusThePositive) {
  const Split split = OneUserSplit();
  const TableSpec spec = *SizeTable("item_in", snapshot::FULL, 10, 2, 1);
  TrainableTable table = *TrainableTable::Create(spec, split.train_item_counts, 1, 0.1f);
  // Row i = (i, 100 i), so a mean of rows names the items pooled.
  for (uint32_t i = 0; i < 10; ++i) {
    table.params()[0].values[2 * i] = static_cast<float>(i);
    table.params()[0].values[2 * i + 1] = 100.0f * static_cast<float>(i);
  }
  std::unique_ptr<UserEncoder> encoder = MakeHistoryUserEncoder(std::move(table), split, 3);
  float u[2];
  encoder->Encode({0, 9, 4}, u);  // 9 is outside the window {5, 3, 8}: all three pooled
  EXPECT_FLOAT_EQ(u[0], (5 + 3 + 8) / 3.0f);
  EXPECT_FLOAT_EQ(u[1], 100 * (5 + 3 + 8) / 3.0f);
  encoder->Encode({0, 3, 4}, u);  // the positive leaves the window: {5, 8}
  EXPECT_FLOAT_EQ(u[0], (5 + 8) / 2.0f);
}

}  // namespace
}  // namespace ranker
