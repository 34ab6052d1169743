// Ranking quality of a model (through Model::Rank, the serving code path) or of the popularity
// baseline, over the full catalogue minus the items the user is known to have: the training
// items when scoring validation, training + validation items when scoring test. Every
// held-out item is relevant. Results are per user, with mean and standard error. A history
// model is given the user's most recent `max_history` known items (0: all) as the history,
// oldest first (RecentHistory), and every known item is excluded.
#ifndef RANKER_TRAINER_EVALUATOR_H_
#define RANKER_TRAINER_EVALUATOR_H_

#include <vector>

#include "model/model.h"
#include "trainer/interactions.h"
#include "trainer/ranking_metrics.h"
#include "trainer/split.h"

namespace ranker {

enum class HeldOut { kValidation, kTest };

struct Evaluation {
  MeanStdErr ndcg, recall;
  std::vector<double> per_user_ndcg;  // users with held-out items, in user order
  std::vector<double> per_user_recall;
};

constexpr size_t kCutoff = 10;

// Uses `threads` threads (results do not depend on it).
Evaluation EvaluateModel(const Model& model, const Dataset& dataset, const Split& split,
                         HeldOut part, int threads = 2, size_t max_history = kDefaultMaxHistory);
Evaluation EvaluatePopularity(const Split& split, HeldOut part);

}  // namespace ranker

#endif  // RANKER_TRAINER_EVALUATOR_H_
