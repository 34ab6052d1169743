// Statistics of the sweep: per-user metrics averaged over seeds, their mean ± standard error
// over users, and paired differences between two methods over the same users. Pure functions.
#ifndef RANKER_EXPERIMENTS_SWEEP_STATS_H_
#define RANKER_EXPERIMENTS_SWEEP_STATS_H_

#include <vector>

#include "trainer/evaluator.h"
#include "trainer/ranking_metrics.h"

namespace ranker {

// 0 for an empty vector (Min/Max too), so a report row never reads past the end.
double Min(const std::vector<double>& values);
double Max(const std::vector<double>& values);
double Mean(const std::vector<double>& values);

// Test metrics of one configuration over its seeds. Users are in the split's order, which
// every seed and method shares, so user_* vectors of two configurations pair up index by index.
struct SeedMetrics {
  std::vector<double> seed_ndcg, seed_recall, seed_seconds;  // per seed: mean over users
  std::vector<double> user_ndcg, user_recall;  // per user: summed over seeds, then averaged
  MeanStdErr ndcg, recall;                     // over users, of the seed averages
};

void AddSeed(const Evaluation& evaluation, double seconds, SeedMetrics* metrics);
// Turns the per-user sums into averages and summarises them; call once, after the last seed.
void FinishSeeds(SeedMetrics* metrics);

// Mean ± standard error over users of a[u] - b[u] (over the users both have).
MeanStdErr PairedDifference(const std::vector<double>& a, const std::vector<double>& b);

}  // namespace ranker

#endif  // RANKER_EXPERIMENTS_SWEEP_STATS_H_
