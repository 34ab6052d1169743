// The per-user split on small hand-made logs: the last 20% test, the 10% before validation,
// in time order; seeded and complete without timestamps.
#include "trainer/split.h"

#include <gtest/gtest.h>

#include <array>
#include <vector>

#include "interactions/interactions.h"

namespace ranker {
namespace {

TEST(SplitTest, LastTwentyPercentTestTenPercentValidationInTimeOrder) {
  // User 0 has 10 interactions at times 100..109 on items 0..9 (given out of order);
  // user 1 has 2 interactions.
  std::vector<std::array<double, 4>> raw;
  for (int i : {3, 9, 0, 5, 1, 7, 2, 8, 4, 6}) raw.push_back({0, double(i), 1, 100.0 + i});
  raw.push_back({1, 4, 1, 50});
  raw.push_back({1, 2, 1, 40});
  Dataset data = MakeDataset("hand", raw, true);
  const Split split = SplitPerUser(data);
  EXPECT_EQ(split.users[0].train, (std::vector<uint32_t>{0, 1, 2, 3, 4, 5, 6}));
  EXPECT_EQ(split.users[0].validation, (std::vector<uint32_t>{7}));
  EXPECT_EQ(split.users[0].test, (std::vector<uint32_t>{8, 9}));
  // At least one test item even for tiny histories; the latest one.
  EXPECT_EQ(split.users[1].test, (std::vector<uint32_t>{4}));
  EXPECT_EQ(split.users[1].train, (std::vector<uint32_t>{2}));
  EXPECT_EQ(split.train_item_counts[2], 2u);
  EXPECT_EQ(split.train_interactions, 8u);
}

TEST(SplitTest, WithoutTimestampsTheSplitIsSeededAndComplete) {
  std::vector<std::array<double, 4>> raw;
  for (int i = 0; i < 20; ++i) raw.push_back({0, double(i), 1, 0});
  Dataset data = MakeDataset("no-time", raw, false);
  SplitOptions a, b;
  a.seed = 1;
  b.seed = 2;
  const Split s1 = SplitPerUser(data, a), s1_again = SplitPerUser(data, a),
              s2 = SplitPerUser(data, b);
  EXPECT_EQ(s1.users[0].test, s1_again.users[0].test);
  EXPECT_NE(s1.users[0].test, s2.users[0].test);
  EXPECT_EQ(s1.users[0].test.size(), 4u);
  EXPECT_EQ(s1.users[0].validation.size(), 2u);
  EXPECT_EQ(s1.users[0].train.size(), 14u);
}
}  // namespace
}  // namespace ranker
