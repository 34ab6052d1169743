// The RankNet scorer s(u, i) = MLP([e_u, e_i, e_u * e_i]) + dot_weight * (e_u . e_i):
// ReLU hidden layers, a linear output, weights row-major [out, in] ("mlp/<l>/weight", "bias").
//
// Serving scores a batch of items per user. Layer 1 splits into per-user and per-item parts:
// W1 [u; i; u*i] + b = (W_u u + b) + (W_i + W_x diag(u)) i, so PrepareUser folds the user into a
// bias and an [h1, d] matrix once, and each item then costs one d -> h1 product instead of 3d.
// Immutable after Create; thread-safe to read, with one ScorerScratch per thread.
#ifndef RANKER_MODEL_RANKNET_SCORER_H_
#define RANKER_MODEL_RANKNET_SCORER_H_

#include <cstddef>
#include <cstdint>
#include <vector>

#include "absl/status/statusor.h"
#include "model/snapshot.h"

namespace ranker {

// Per-thread buffers reused across requests; they grow to the largest batch seen.
struct ScorerScratch {
  AlignedVector<float> user_bias;  // h1
  AlignedVector<float> folded;     // h1 x d
  AlignedVector<float> user;       // d
  AlignedVector<float> activations[2];
};

class RankNetScorer {
 public:
  // Takes the "mlp/..." tensors out of `tensors`, checking them against `spec` and `d`.
  static absl::StatusOr<RankNetScorer> Create(const snapshot::ScorerSpec& spec, uint32_t d,
                                              TensorMap& tensors);

  const std::vector<uint32_t>& widths() const { return widths_; }
  float dot_weight() const { return dot_weight_; }
  size_t resident_bytes() const;
  // True if the scores order items as u . e_i alone: the output layer's weights are all zero
  // (the MLP adds the same constant to every item) and dot_weight > 0. The trainer's dot
  // scorer and the first phase of mlp+dot export such scorers.
  bool RanksByDot() const;

  // Folds `user` (d floats) into `scratch`; call before Score for that user.
  void PrepareUser(const float* user, ScorerScratch* scratch) const;
  // scores[r] = s(user, items row r) for `count` rows of `items` (count x d, row-major).
  void Score(const float* items, size_t count, float* scores, ScorerScratch* scratch) const;

  // The textbook computation for one pair, no folding or batching: the reference the batched
  // path is tested against.
  float ScoreOne(const float* user, const float* item) const;

  const float* weight(size_t layer) const { return weights_[layer].as<float>().data(); }
  const float* bias(size_t layer) const { return biases_[layer].as<float>().data(); }

 private:
  uint32_t d_ = 0;
  std::vector<uint32_t> widths_;
  float dot_weight_ = 0;
  std::vector<AlignedBuffer> weights_;
  std::vector<AlignedBuffer> biases_;
};

}  // namespace ranker

#endif  // RANKER_MODEL_RANKNET_SCORER_H_
