#include "experiments/sweep_stats.h"

#include <algorithm>

namespace ranker {

double Min(const std::vector<double>& values) {
  return values.empty() ? 0 : *std::min_element(values.begin(), values.end());
}

double Max(const std::vector<double>& values) {
  return values.empty() ? 0 : *std::max_element(values.begin(), values.end());
}

double Mean(const std::vector<double>& values) {
  return values.empty() ? 0 : Summarize(values).mean;
}

void AddSeed(const Evaluation& evaluation, double seconds, SeedMetrics* metrics) {
  metrics->seed_ndcg.push_back(evaluation.ndcg.mean);
  metrics->seed_recall.push_back(evaluation.recall.mean);
  metrics->seed_seconds.push_back(seconds);
  if (metrics->user_ndcg.empty()) {
    metrics->user_ndcg.assign(evaluation.per_user_ndcg.size(), 0);
    metrics->user_recall.assign(evaluation.per_user_recall.size(), 0);
  }
  for (size_t u = 0; u < metrics->user_ndcg.size() && u < evaluation.per_user_ndcg.size(); ++u) {
    metrics->user_ndcg[u] += evaluation.per_user_ndcg[u];
    metrics->user_recall[u] += evaluation.per_user_recall[u];
  }
}

void FinishSeeds(SeedMetrics* metrics) {
  const double seeds = static_cast<double>(metrics->seed_ndcg.size());
  for (double& x : metrics->user_ndcg) x /= seeds;
  for (double& x : metrics->user_recall) x /= seeds;
  metrics->ndcg = Summarize(metrics->user_ndcg);
  metrics->recall = Summarize(metrics->user_recall);
}

MeanStdErr PairedDifference(const std::vector<double>& a, const std::vector<double>& b) {
  std::vector<double> diff(std::min(a.size(), b.size()));
  for (size_t u = 0; u < diff.size(); ++u) diff[u] = a[u] - b[u];
  return Summarize(diff);
}

}  // namespace ranker
