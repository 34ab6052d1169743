// The trainer's RankNet scorer: s(u, i) = MLP([u, i, u*i]) + alpha * (u . i), batched with
// Eigen, with a hand-written backward pass and Adam. It exports exactly the tensors and
// ScorerSpec that the serving RankNetScorer reads, so the server scores what was trained.
// Modes: kMlpDot (both terms), kMlp (alpha fixed at 0), kDot (no MLP: exported as a zero
// linear layer, alpha trained).
// Forward/Backward are const and may run concurrently with separate caches and gradients.
#ifndef RANKER_TRAINER_TRAINABLE_SCORER_H_
#define RANKER_TRAINER_TRAINABLE_SCORER_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "model/aligned_buffer.h"
#include "model/snapshot.h"

namespace ranker {

enum class ScorerMode { kMlpDot, kMlp, kDot };
absl::StatusOr<ScorerMode> ParseScorerMode(const std::string& name);
std::string ScorerModeName(ScorerMode mode);

struct ScorerGradient {
  std::vector<AlignedVector<float>> weights, biases;
  double alpha = 0;
  void Clear();
  void Add(const ScorerGradient& other);
};

// Activations of one Forward, kept for Backward.
struct ScorerCache {
  int rows = 0;
  AlignedVector<float> input;                     // rows x 3d
  std::vector<AlignedVector<float>> activations;  // per hidden layer, post-ReLU, rows x width
  AlignedVector<float> dot;                       // rows
};

class TrainableScorer {
 public:
  TrainableScorer(uint32_t d, std::vector<uint32_t> hidden, ScorerMode mode, uint64_t seed);

  ScorerMode mode() const { return mode_; }
  uint32_t dim() const { return d_; }
  // Layer widths: 3d, hidden..., 1 (just 3d, 1 in kDot mode).
  const std::vector<uint32_t>& widths() const { return widths_; }
  std::vector<AlignedVector<float>>& weights() { return weights_; }
  std::vector<AlignedVector<float>>& biases() { return biases_; }
  float& alpha() { return alpha_; }

  // scores[r] = s(users row r, items row r); users and items are rows x d.
  void Forward(const float* users, const float* items, int rows, float* scores,
               ScorerCache* cache) const;
  // Given dL/ds per row, writes dL/du and dL/di (rows x d) and adds parameter gradients.
  void Backward(const float* users, const float* items, const ScorerCache& cache,
                const float* d_scores, float* d_users, float* d_items, ScorerGradient* grad) const;
  ScorerGradient MakeGradient() const;
  // One Adam step (bias-corrected) with the gradient averaged by the caller. While the MLP is
  // frozen only alpha moves.
  void ApplyAdam(const ScorerGradient& grad, float learning_rate);
  // The MLP's output layer starts at zero, so a frozen MLP adds a constant and the scorer is
  // exactly the dot product: training starts as a dot-product model and the MLP is then
  // trained as a residual on top of it (see trainer.h).
  void set_mlp_frozen(bool frozen) { mlp_frozen_ = frozen; }
  bool mlp_frozen() const { return mlp_frozen_; }

  // The serving tensors and spec. RESOURCE_EXHAUSTED if a tensor cannot be allocated.
  absl::Status Export(TensorMap* tensors, snapshot::ScorerSpec* spec) const;

 private:
  uint32_t d_;
  ScorerMode mode_;
  std::vector<uint32_t> widths_;
  std::vector<AlignedVector<float>> weights_, biases_;  // [out x in], [out]
  float alpha_;
  bool mlp_frozen_ = false;
  // Adam state.
  std::vector<AlignedVector<float>> m_w_, v_w_, m_b_, v_b_;
  double m_alpha_ = 0, v_alpha_ = 0;
  int step_ = 0;
};

}  // namespace ranker

#endif  // RANKER_TRAINER_TRAINABLE_SCORER_H_
