#include "model/ranknet_scorer.h"

#include <Eigen/Core>
#include <algorithm>
#include <cmath>

#include "absl/strings/str_cat.h"
#include "common/status_macros.h"
#include "model/take_tensor.h"

namespace ranker {
namespace {

using RowMatrix = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
using MatrixMap = Eigen::Map<RowMatrix>;
using ConstMatrixMap = Eigen::Map<const RowMatrix>;
using VectorMap = Eigen::Map<Eigen::VectorXf>;
using ConstVectorMap = Eigen::Map<const Eigen::VectorXf>;

}  // namespace

absl::StatusOr<RankNetScorer> RankNetScorer::Create(const snapshot::ScorerSpec& spec, uint32_t d,
                                                    TensorMap& tensors) {
  RankNetScorer scorer;
  scorer.d_ = d;
  scorer.widths_.assign(spec.widths().begin(), spec.widths().end());
  scorer.dot_weight_ = spec.dot_weight();
  const auto& w = scorer.widths_;
  if (w.size() < 2 || w.front() != 3 * d || w.back() != 1) {
    return absl::FailedPreconditionError(
        absl::StrCat("scorer widths must run from 3d = ", 3 * d, " to 1"));
  }
  for (uint32_t width : w) {
    if (width == 0 || width > (1u << 16)) {
      return absl::FailedPreconditionError(absl::StrCat("scorer width ", width, " out of range"));
    }
  }
  if (!std::isfinite(scorer.dot_weight_)) {
    return absl::FailedPreconditionError("scorer dot_weight is not finite");
  }
  for (size_t l = 0; l + 1 < w.size(); ++l) {
    ASSIGN_OR_RETURN(AlignedBuffer weight, TakeTensor(tensors, MlpTensorName(l, "weight"),
                                                      snapshot::FLOAT32, {w[l + 1], w[l]}));
    ASSIGN_OR_RETURN(AlignedBuffer bias,
                     TakeTensor(tensors, MlpTensorName(l, "bias"), snapshot::FLOAT32, {w[l + 1]}));
    scorer.weights_.push_back(std::move(weight));
    scorer.biases_.push_back(std::move(bias));
  }
  return scorer;
}

bool RankNetScorer::RanksByDot() const {
  if (!(dot_weight_ > 0) || weights_.empty()) return false;
  for (float w : weights_.back().as<float>()) {
    if (w != 0.0f) return false;
  }
  return true;
}

size_t RankNetScorer::resident_bytes() const {
  size_t bytes = 0;
  for (const auto& w : weights_) bytes += w.size();
  for (const auto& b : biases_) bytes += b.size();
  return bytes;
}

void RankNetScorer::PrepareUser(const float* user, ScorerScratch* scratch) const {
  const Eigen::Index d = d_, h1 = widths_[1];
  scratch->user.assign(user, user + d);
  scratch->user_bias.resize(h1);
  scratch->folded.resize(h1 * d);
  ConstMatrixMap w1(weight(0), h1, 3 * d);
  ConstVectorMap u(user, d);
  VectorMap user_bias(scratch->user_bias.data(), h1);
  // Bias first, then the product accumulated into it: "W u + b" in one expression would make
  // Eigen allocate a temporary for W u on every request.
  user_bias = ConstVectorMap(bias(0), h1);
  user_bias.noalias() += w1.leftCols(d) * u;
  MatrixMap folded(scratch->folded.data(), h1, d);
  folded.noalias() = w1.middleCols(d, d) + w1.rightCols(d) * u.asDiagonal();
}

void RankNetScorer::Score(const float* items, size_t count, float* scores,
                          ScorerScratch* scratch) const {
  const Eigen::Index d = d_, n = static_cast<Eigen::Index>(count);
  const size_t layers = weights_.size();
  const uint32_t widest = *std::max_element(widths_.begin() + 1, widths_.end());
  for (auto& a : scratch->activations) {
    if (a.size() < count * widest) a.resize(count * widest);
  }
  ConstMatrixMap x(items, n, d);
  VectorMap out(scores, n);

  // Layer 1 with the user folded in: [n, d] x [d, h1].
  const Eigen::Index h1 = widths_[1];
  MatrixMap hidden(scratch->activations[0].data(), n, h1);
  if (layers == 1) {
    out.noalias() = x * ConstMatrixMap(scratch->folded.data(), 1, d).transpose();
    out.array() += scratch->user_bias[0];
  } else {
    hidden.noalias() = x * ConstMatrixMap(scratch->folded.data(), h1, d).transpose();
    hidden.rowwise() += ConstVectorMap(scratch->user_bias.data(), h1).transpose();
    hidden = hidden.cwiseMax(0.0f);
  }
  for (size_t l = 1; l < layers; ++l) {
    const Eigen::Index in = widths_[l], width = widths_[l + 1];
    ConstMatrixMap input(scratch->activations[(l - 1) % 2].data(), n, in);
    ConstMatrixMap w(weight(l), width, in);
    if (l + 1 == layers) {
      out.noalias() = input * w.transpose();
      out.array() += bias(l)[0];
    } else {
      MatrixMap next(scratch->activations[l % 2].data(), n, width);
      next.noalias() = input * w.transpose();
      next.rowwise() += ConstVectorMap(bias(l), width).transpose();
      next = next.cwiseMax(0.0f);
    }
  }
  if (dot_weight_ != 0.0f) {
    out.noalias() += dot_weight_ * (x * ConstVectorMap(scratch->user.data(), d));
  }
}

float RankNetScorer::ScoreOne(const float* user, const float* item) const {
  const size_t d = d_;
  std::vector<float> input(3 * d);
  for (size_t k = 0; k < d; ++k) {
    input[k] = user[k];
    input[d + k] = item[k];
    input[2 * d + k] = user[k] * item[k];
  }
  for (size_t l = 0; l < weights_.size(); ++l) {
    const size_t in = widths_[l], out = widths_[l + 1];
    std::vector<float> next(out);
    for (size_t o = 0; o < out; ++o) {
      double sum = bias(l)[o];
      for (size_t k = 0; k < in; ++k) sum += double{weight(l)[o * in + k]} * input[k];
      next[o] = (l + 1 < weights_.size()) ? std::max(0.0, sum) : static_cast<float>(sum);
    }
    input = std::move(next);
  }
  double dot = 0;
  for (size_t k = 0; k < d; ++k) dot += double{user[k]} * item[k];
  return static_cast<float>(input[0] + dot_weight_ * dot);
}

}  // namespace ranker
