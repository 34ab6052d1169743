#include "model/top_k.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <random>

namespace ranker {
namespace {

TEST(TopKTest, MatchesFullSortOnRandomInputsWithTies) {
  std::mt19937_64 rng(3);
  TopK top;
  std::vector<ScoredId> got;
  for (int trial = 0; trial < 500; ++trial) {
    const size_t n = rng() % 300, k = 1 + rng() % 50;
    std::vector<ScoredId> all;
    for (size_t i = 0; i < n; ++i) all.push_back({i, static_cast<float>(rng() % 20)});
    std::shuffle(all.begin(), all.end(), rng);
    top.Reset(k);
    for (const ScoredId& s : all) top.Push(s.id, s.score);
    top.TakeSorted(&got);
    std::sort(all.begin(), all.end(), RanksBefore);
    all.resize(std::min(k, all.size()));
    ASSERT_EQ(got.size(), all.size());
    for (size_t r = 0; r < all.size(); ++r) {
      EXPECT_EQ(got[r].id, all[r].id);
      EXPECT_EQ(got[r].score, all[r].score);
    }
  }
}

TEST(TopKTest, NanRanksLast) {
  TopK top;
  top.Reset(2);
  top.Push(1, std::nanf(""));
  top.Push(2, -1e30f);
  top.Push(3, 0.0f);
  std::vector<ScoredId> got;
  top.TakeSorted(&got);
  ASSERT_EQ(got.size(), 2u);
  EXPECT_EQ(got[0].id, 3u);
  EXPECT_EQ(got[1].id, 2u);
}

TEST(TopKTest, FullWorstScoreAndIdOrder) {
  TopK top;
  top.Reset(3);
  EXPECT_FALSE(top.full());
  for (auto [id, score] : {std::pair<uint64_t, float>{9, 0.5f}, {2, 0.9f}, {5, 0.1f}}) {
    top.Push(id, score);
  }
  ASSERT_TRUE(top.full());
  EXPECT_EQ(top.worst_score(), 0.1f);
  top.Push(7, 0.7f);  // evicts id 5
  EXPECT_EQ(top.worst_score(), 0.5f);
  top.Push(1, 0.5f);  // ties the worst with a lower id: evicts id 9
  EXPECT_EQ(top.worst_score(), 0.5f);
  std::vector<ScoredId> kept;
  top.TakeInIdOrder(&kept);
  ASSERT_EQ(kept.size(), 3u);
  EXPECT_EQ(kept[0].id, 1u);
  EXPECT_EQ(kept[1].id, 2u);
  EXPECT_EQ(kept[2].id, 7u);
  EXPECT_FALSE(top.full());  // taken: empty again
}

}  // namespace
}  // namespace ranker
