// Two stages against one on a trained model: per test user and per N, the
// nDCG@10 of the two-stage ranking (Model::Rank with retrieve_n = N) and the recall of the
// exhaustive top 10 (retrieve_n = 0) inside stage 1's kept set, which is what Rank returns with
// retrieve_n = N and k = N (stage 2 ranks every kept item). Then the same over seeds: per-user
// values averaged over seeds, summarised over users, the difference paired per user.
#ifndef RANKER_EXPERIMENTS_RETRIEVAL_CURVE_H_
#define RANKER_EXPERIMENTS_RETRIEVAL_CURVE_H_

#include <cstddef>
#include <cstdint>
#include <vector>

#include "absl/status/statusor.h"
#include "interactions/interactions.h"
#include "model/model.h"
#include "trainer/evaluator.h"
#include "trainer/ranking_metrics.h"
#include "trainer/split.h"

namespace ranker {

// One model (one seed) on the test split. Users are those with test items, in split order.
struct SeedCurve {
  bool mlp = false;        // whether the served scorer's MLP changes the ranking (ScorerUsesMlp)
  std::vector<size_t> ns;  // as measured, increasing
  std::vector<double> exhaustive_ndcg;      // per user
  std::vector<std::vector<double>> ndcg;    // [point][user], two stages
  std::vector<std::vector<double>> recall;  // [point][user], exhaustive top 10 in stage 1
};

// The Ns a catalogue of `catalogue` items is measured at: those of `grid` (increasing, > 0)
// below its size, then the size itself (one stage: Rank retrieves only from a larger pool).
std::vector<size_t> CurveNs(const std::vector<size_t>& grid, size_t catalogue);

// False when the MLP's output layer is all zero, so the MLP adds a constant and the scorer ranks
// exactly as its dot-product term: the trainer's selected epoch was in its first phase (the
// dot product alone, trainer.h). Two stages then keep the exhaustive top k at any N >= k (when
// the dot weight is positive): their quality is not in question.
bool ScorerUsesMlp(const RankNetScorer& scorer);

// Measures `model` at every N of `ns` (increasing, each > 0). Rank runs with `threads`
// threads and the users' newest `max_history` items (as EvaluateModel). INTERNAL if an N at or
// above the catalogue size (one stage by construction) does not give every user exactly the
// exhaustive nDCG@10: the check that the two code paths rank alike.
absl::StatusOr<SeedCurve> MeasureCurve(const Model& model, const Dataset& dataset,
                                       const Split& split, const std::vector<size_t>& ns,
                                       int threads, size_t max_history);

// The share of `reference` (item indices) found in `kept`; 1 when `reference` is empty
// (nothing could be missed).
double RecallInside(const std::vector<uint32_t>& reference, std::vector<uint32_t> kept);

struct CurvePoint {
  size_t n = 0;
  MeanStdErr ndcg;        // two stages
  MeanStdErr difference;  // two stages - exhaustive, per user
  double relative = 0;    // difference / exhaustive nDCG@10, percent
  double relative_se = 0;
  MeanStdErr recall;  // of the exhaustive top 10 inside stage 1
};

struct ModelCurve {
  int mlp_seeds = 0;                    // seeds whose served scorer uses its MLP
  MeanStdErr exhaustive;                // nDCG@10 of one stage
  std::vector<double> seed_exhaustive;  // per seed: mean over users
  std::vector<CurvePoint> points;       // one per N, increasing
};

// Seed-averages each user's values, then summarises over users. REQUIRES: seeds not empty,
// every seed measured at the same ns over the same users.
ModelCurve SummarizeCurve(const std::vector<SeedCurve>& seeds);

}  // namespace ranker

#endif  // RANKER_EXPERIMENTS_RETRIEVAL_CURVE_H_
