// nDCG@10 and Recall@10 against hand computation; means with standard errors.
#include "trainer/ranking_metrics.h"

#include <gtest/gtest.h>

#include <cmath>
#include <vector>

namespace ranker {
namespace {

TEST(MetricsTest, HandComputedNdcgAndRecall) {
  // Relevant {2, 5, 9}; ranking hits at ranks 1 and 3.
  const std::vector<uint32_t> relevant = {2, 5, 9};
  const std::vector<uint32_t> ranked = {5, 1, 9, 3, 4, 6, 7, 8, 0, 10};
  const double dcg = 1.0 + 1.0 / std::log2(4.0);
  const double ideal = 1.0 + 1.0 / std::log2(3.0) + 1.0 / std::log2(4.0);
  EXPECT_NEAR(NdcgAtK(ranked, relevant, 10), dcg / ideal, 1e-12);
  EXPECT_NEAR(RecallAtK(ranked, relevant, 10), 2.0 / 3.0, 1e-12);
  EXPECT_NEAR(NdcgAtK(ranked, relevant, 1), 1.0, 1e-12);  // perfect at cut-off 1
  EXPECT_EQ(NdcgAtK({1, 3, 4}, relevant, 10), 0.0);
  // More relevant items than K: the ideal DCG stops at K.
  std::vector<uint32_t> many(20);
  for (uint32_t i = 0; i < 20; ++i) many[i] = i;
  EXPECT_NEAR(NdcgAtK(many, many, 10), 1.0, 1e-12);
  EXPECT_NEAR(RecallAtK(many, many, 10), 0.5, 1e-12);
}

TEST(MetricsTest, MeanAndStandardError) {
  const MeanStdErr s = Summarize({1, 2, 3, 4});
  EXPECT_DOUBLE_EQ(s.mean, 2.5);
  EXPECT_NEAR(s.stderr_, std::sqrt(5.0 / 3.0 / 4.0), 1e-12);
  EXPECT_EQ(s.n, 4u);
}
}  // namespace
}  // namespace ranker
