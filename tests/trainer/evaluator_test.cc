// EvaluateModel through Model::Rank: known items excluded in the query rank a user-ID model
// exactly as the first version did (ask for kCutoff + |known| items, drop the known ones
// afterwards), and `keep` returns each user's ranking as Rank gave it.
#include "trainer/evaluator.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <random>
#include <set>

#include "trainer/trainer.h"

namespace ranker {
namespace {

// Users of four taste clusters with 20 items each, mostly of their cluster.
Dataset ClusteredDataset() {
  std::mt19937_64 rng(11);
  std::vector<std::array<double, 4>> raw;
  const int users = 80, items = 120, clusters = 4;
  for (int u = 0; u < users; ++u) {
    std::set<int> chosen;
    while (chosen.size() < 20) {
      const bool in_cluster = rng() % 10 < 8;
      chosen.insert(in_cluster ? u % clusters + clusters * static_cast<int>(rng() % (items / 4))
                               : static_cast<int>(rng() % items));
    }
    for (int item : chosen) {
      raw.push_back({double(u + 500), double(2 * item + 3), 4, double(rng() % 10000)});
    }
  }
  return MakeDataset("clustered", raw, true);
}

TrainOptions SmallIdOptions() {
  TrainOptions o;
  o.kind = snapshot::MEMCOM;
  o.ratio = 4;
  o.d = 8;
  o.hidden = {8};
  o.max_epochs = 3;
  o.scorer = ScorerMode::kMlp;  // the MLP alone, so ties and near-ties are not the dot's order
  return o;
}

TEST(EvaluatorTest, ExcludingKnownItemsInTheQueryRanksAsFilteringThemAfterwards) {
  const Dataset data = ClusteredDataset();
  const Split split = SplitPerUser(data);
  auto trained = Train(data, split, SmallIdOptions());
  ASSERT_TRUE(trained.ok()) << trained.status();
  const Model& model = *trained->model;
  const Evaluation got = EvaluateModel(model, data, split, HeldOut::kTest);
  std::vector<double> want;
  RankScratch scratch;
  RankResult result;
  for (size_t u = 0; u < split.users.size(); ++u) {
    const UserSplit& s = split.users[u];
    if (s.test.empty()) continue;
    std::vector<uint32_t> known = s.train;
    known.insert(known.end(), s.validation.begin(), s.validation.end());
    std::sort(known.begin(), known.end());
    model.Rank(data.user_ids[u], {}, kCutoff + known.size(), &scratch, &result);
    std::vector<uint32_t> ranked;
    for (const ScoredId& item : result.items) {
      const auto index = static_cast<uint32_t>(*model.item().ids.ToIndex(item.id));
      if (std::binary_search(known.begin(), known.end(), index)) continue;
      if (ranked.size() < kCutoff) ranked.push_back(index);
    }
    want.push_back(NdcgAtK(ranked, s.test, kCutoff));
  }
  EXPECT_EQ(got.per_user_ndcg, want);
  EXPECT_TRUE(got.per_user_ranked.empty());  // not asked for
}

TEST(EvaluatorTest, KeepReturnsRankingsWithoutKnownItemsAndTheSameMetrics) {
  const Dataset data = ClusteredDataset();
  const Split split = SplitPerUser(data);
  TrainOptions options = SmallIdOptions();
  options.user_mode = snapshot::USER_MODE_HISTORY;
  auto trained = Train(data, split, options);
  ASSERT_TRUE(trained.ok()) << trained.status();
  const Evaluation plain = EvaluateModel(*trained->model, data, split, HeldOut::kTest);
  const Evaluation kept = EvaluateModel(*trained->model, data, split, HeldOut::kTest, 2,
                                        kDefaultMaxHistory, /*retrieve_n=*/0, /*keep=*/30);
  EXPECT_EQ(kept.per_user_ndcg, plain.per_user_ndcg);
  EXPECT_EQ(kept.per_user_recall, plain.per_user_recall);
  ASSERT_EQ(kept.per_user_ranked.size(), plain.per_user_ndcg.size());
  size_t counted = 0;
  for (const UserSplit& s : split.users) {
    if (s.test.empty()) continue;
    const std::vector<uint32_t>& ranked = kept.per_user_ranked[counted++];
    EXPECT_EQ(ranked.size(), 30u);
    for (uint32_t item : ranked) {
      EXPECT_FALSE(std::binary_search(s.train.begin(), s.train.end(), item)) << item;
      EXPECT_FALSE(std::binary_search(s.validation.begin(), s.validation.end(), item)) << item;
    }
  }
}

}  // namespace
}  // namespace ranker
