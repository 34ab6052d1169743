// Ranking quality of a model (through Model::Rank, the serving code path) or of the popularity
// baseline, over the full catalogue minus the items the user is known to have: the training
// items when scoring validation, training + validation items when scoring test. Every
// held-out item is relevant. Results are per user, with mean and standard error. A history
// model is given the user's most recent `max_history` known items (0: all) as the history,
// oldest first (RecentHistory). Either kind of model is asked to exclude every known item, so
// with two stages (retrieve_n > 0) retrieval spends none of its N on them.
#ifndef RANKER_TRAINER_EVALUATOR_H_
#define RANKER_TRAINER_EVALUATOR_H_

#include <vector>

#include "interactions/interactions.h"
#include "model/model.h"
#include "trainer/ranking_metrics.h"
#include "trainer/split.h"

namespace ranker {

enum class HeldOut { kValidation, kTest };

struct Evaluation {
  MeanStdErr ndcg, recall;
  std::vector<double> per_user_ndcg;  // users with held-out items, in user order
  std::vector<double> per_user_recall;
  // Only with `keep` > 0: each counted user's ranking as Rank returned it (item indices, best
  // first, at most max(keep, kCutoff) items), in the same user order.
  std::vector<std::vector<uint32_t>> per_user_ranked;
};

constexpr size_t kCutoff = 10;

// Uses `threads` threads (results do not depend on it). `retrieve_n` is RankQuery::retrieve_n
// (0: one stage, the scorer over the whole catalogue; for a scorer that ranks by the dot
// product alone (RankNetScorer::RanksByDot), two stages keeping max(keep, kCutoff), which rank
// the same items up to float rounding and cost one pass over the table per user). With `keep` > 0,
// Rank is asked for max(keep, kCutoff) items and per_user_ranked holds them; the metrics use the
// first kCutoff.
Evaluation EvaluateModel(const Model& model, const Dataset& dataset, const Split& split,
                         HeldOut part, int threads = 2, size_t max_history = kDefaultMaxHistory,
                         size_t retrieve_n = 0, size_t keep = 0);
Evaluation EvaluatePopularity(const Split& split, HeldOut part);

}  // namespace ranker

#endif  // RANKER_TRAINER_EVALUATOR_H_
