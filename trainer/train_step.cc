#include "trainer/train_step.h"

#include <cmath>
#include <cstring>

namespace ranker {
namespace {

bool SameUser(const TrainingPair& a, const TrainingPair& b, bool uses_positive) {
  return a.user == b.user && (!uses_positive || a.positive == b.positive);
}

}  // namespace

void RunTrainShare(const std::vector<TrainingPair>& pairs, size_t begin, size_t end, double scale,
                   const UserEncoder& users, const TrainableTable& items,
                   const TrainableScorer& scorer, TrainWorker* w) {
  const int rows = static_cast<int>(end - begin);
  w->loss = 0;
  if (rows <= 0) return;
  const size_t d = items.dim();
  for (auto* v : {&w->users, &w->positives, &w->negatives, &w->d_users, &w->d_users_neg,
                  &w->d_positives, &w->d_negatives}) {
    v->resize(rows * d);
  }
  for (auto* v : {&w->scores_pos, &w->scores_neg, &w->d_scores_pos, &w->d_scores_neg}) {
    v->resize(rows);
  }
  // A history user vector costs a pass over the history: pairs that share it (the negatives
  // of one positive are consecutive) encode it once. Id users are one row: encoded per pair,
  // as always.
  const bool share_history = users.uses_positive();
  for (int r = 0; r < rows; ++r) {
    const TrainingPair& p = pairs[begin + r];
    float* user = w->users.data() + r * d;
    if (share_history && r > 0 && SameUser(p, pairs[begin + r - 1], true)) {
      std::memcpy(user, user - d, d * sizeof(float));
    } else {
      users.Encode(p, user);
    }
    items.Embed(p.positive, w->positives.data() + r * d);
    items.Embed(p.negative, w->negatives.data() + r * d);
  }
  scorer.Forward(w->users.data(), w->positives.data(), rows, w->scores_pos.data(), &w->cache_pos);
  scorer.Forward(w->users.data(), w->negatives.data(), rows, w->scores_neg.data(), &w->cache_neg);
  for (int r = 0; r < rows; ++r) {
    const double x = static_cast<double>(w->scores_pos[r]) - w->scores_neg[r];
    // log(1 + exp(-x)), computed stably; dL/dx = -sigmoid(-x).
    w->loss += x > 0 ? std::log1p(std::exp(-x)) : -x + std::log1p(std::exp(x));
    const double dx = -1.0 / (1.0 + std::exp(x));
    w->d_scores_pos[r] = static_cast<float>(dx * scale);
    w->d_scores_neg[r] = static_cast<float>(-dx * scale);
  }
  scorer.Backward(w->users.data(), w->positives.data(), w->cache_pos, w->d_scores_pos.data(),
                  w->d_users.data(), w->d_positives.data(), &w->scorer_grad);
  scorer.Backward(w->users.data(), w->negatives.data(), w->cache_neg, w->d_scores_neg.data(),
                  w->d_users_neg.data(), w->d_negatives.data(), &w->scorer_grad);
  for (int r = 0; r < rows; ++r) {
    const TrainingPair& p = pairs[begin + r];
    float* du = w->d_users.data() + r * d;
    const float* du_neg = w->d_users_neg.data() + r * d;
    for (size_t k = 0; k < d; ++k) du[k] += du_neg[k];
    if (share_history && r + 1 < rows && SameUser(p, pairs[begin + r + 1], true)) {
      // Carry dL/du to the next pair of the same user vector; the last of the run backprops.
      float* next = w->d_users.data() + (r + 1) * d;
      for (size_t k = 0; k < d; ++k) next[k] += du[k];
    } else {
      users.Backward(p, du, &w->user_grad);
    }
    items.Backward(p.positive, w->d_positives.data() + r * d, &w->item_grad);
    items.Backward(p.negative, w->d_negatives.data() + r * d, &w->item_grad);
  }
}

}  // namespace ranker
