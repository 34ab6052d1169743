// One thread's share of a training step: embed the pairs' users, positives and negatives,
// score both sides, take the RankNet loss log(1 + exp(-(s_pos - s_neg))), and accumulate the
// gradients of the scorer, the user side's table and the item table into the worker.
#ifndef RANKER_TRAINER_TRAIN_STEP_H_
#define RANKER_TRAINER_TRAIN_STEP_H_

#include <vector>

#include "model/aligned_buffer.h"
#include "trainer/trainable_scorer.h"
#include "trainer/trainable_table.h"
#include "trainer/user_encoder.h"

namespace ranker {

// Buffers and gradients of one thread, reused across steps.
struct TrainWorker {
  AlignedVector<float> users, positives, negatives, d_users, d_users_neg, d_positives, d_negatives;
  AlignedVector<float> scores_pos, scores_neg, d_scores_pos, d_scores_neg;
  ScorerCache cache_pos, cache_neg;
  TableGradient user_grad, item_grad;
  ScorerGradient scorer_grad;
  double loss = 0;  // summed over this share's pairs
};

// Pairs [begin, end) of `pairs`; gradients are scaled by `scale` (1 / pairs in the step).
void RunTrainShare(const std::vector<TrainingPair>& pairs, size_t begin, size_t end, double scale,
                   const UserEncoder& users, const TrainableTable& items,
                   const TrainableScorer& scorer, TrainWorker* w);

}  // namespace ranker

#endif  // RANKER_TRAINER_TRAIN_STEP_H_
