#include "experiments/retrieval_curve.h"

#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"
#include "experiments/sweep_stats.h"

namespace ranker {

std::vector<size_t> CurveNs(const std::vector<size_t>& grid, size_t catalogue) {
  std::vector<size_t> ns;
  for (size_t n : grid) {
    if (n < catalogue) ns.push_back(n);
  }
  ns.push_back(catalogue);
  return ns;
}

double RecallInside(const std::vector<uint32_t>& reference, std::vector<uint32_t> kept) {
  if (reference.empty()) return 1;
  std::sort(kept.begin(), kept.end());
  size_t found = 0;
  for (uint32_t item : reference) {
    found += std::binary_search(kept.begin(), kept.end(), item) ? 1 : 0;
  }
  return static_cast<double>(found) / static_cast<double>(reference.size());
}

bool ScorerUsesMlp(const RankNetScorer& scorer) {
  const std::vector<uint32_t>& widths = scorer.widths();
  const size_t last = widths.size() - 2;  // the output layer: widths[last] -> 1
  const float* weight = scorer.weight(last);
  return std::any_of(weight, weight + widths[last], [](float w) { return w != 0; });
}

absl::StatusOr<SeedCurve> MeasureCurve(const Model& model, const Dataset& dataset,
                                       const Split& split, const std::vector<size_t>& ns,
                                       int threads, size_t max_history) {
  SeedCurve curve;
  curve.mlp = ScorerUsesMlp(model.scorer());
  curve.ns = ns;
  const Evaluation exhaustive = EvaluateModel(model, dataset, split, HeldOut::kTest, threads,
                                              max_history, /*retrieve_n=*/0, /*keep=*/kCutoff);
  curve.exhaustive_ndcg = exhaustive.per_user_ndcg;
  const size_t users = exhaustive.per_user_ndcg.size();
  for (size_t n : ns) {
    // k = N: stage 2 ranks every kept item, so Rank returns stage 1's whole set, best first,
    // and its first kCutoff are the two-stage top 10.
    const Evaluation two = EvaluateModel(model, dataset, split, HeldOut::kTest, threads,
                                         max_history, /*retrieve_n=*/n, /*keep=*/n);
    std::vector<double> recall(users);
    for (size_t u = 0; u < users; ++u) {
      recall[u] = RecallInside(exhaustive.per_user_ranked[u], two.per_user_ranked[u]);
    }
    if (n >= model.item().table.size() && two.per_user_ndcg != curve.exhaustive_ndcg) {
      return absl::InternalError(absl::StrCat(
          "retrieve_n = ", n, " is at least the catalogue (", model.item().table.size(),
          " items) but two stages do not give the exhaustive nDCG@10 for every user"));
    }
    curve.ndcg.push_back(two.per_user_ndcg);
    curve.recall.push_back(std::move(recall));
  }
  return curve;
}

namespace {

// Per user, the mean over seeds of values(seed)[u].
template <typename Values>
std::vector<double> SeedAverage(const std::vector<SeedCurve>& seeds, Values values) {
  std::vector<double> mean(values(seeds[0]).size(), 0);
  for (const SeedCurve& seed : seeds) {
    const std::vector<double>& v = values(seed);
    for (size_t u = 0; u < mean.size() && u < v.size(); ++u) mean[u] += v[u];
  }
  for (double& x : mean) x /= static_cast<double>(seeds.size());
  return mean;
}

}  // namespace

ModelCurve SummarizeCurve(const std::vector<SeedCurve>& seeds) {
  ModelCurve out;
  const std::vector<double> exhaustive = SeedAverage(
      seeds, [](const SeedCurve& s) -> const auto& { return s.exhaustive_ndcg; });
  out.exhaustive = Summarize(exhaustive);
  for (const SeedCurve& seed : seeds) {
    out.seed_exhaustive.push_back(Mean(seed.exhaustive_ndcg));
    out.mlp_seeds += seed.mlp ? 1 : 0;
  }
  for (size_t p = 0; p < seeds[0].ns.size(); ++p) {
    CurvePoint point;
    point.n = seeds[0].ns[p];
    const std::vector<double> ndcg = SeedAverage(
        seeds, [p](const SeedCurve& s) -> const auto& { return s.ndcg[p]; });
    point.ndcg = Summarize(ndcg);
    point.difference = PairedDifference(ndcg, exhaustive);
    if (out.exhaustive.mean > 0) {
      point.relative = 100 * point.difference.mean / out.exhaustive.mean;
      point.relative_se = 100 * point.difference.stderr_ / out.exhaustive.mean;
    }
    point.recall = Summarize(SeedAverage(
        seeds, [p](const SeedCurve& s) -> const auto& { return s.recall[p]; }));
    out.points.push_back(point);
  }
  return out;
}

}  // namespace ranker
