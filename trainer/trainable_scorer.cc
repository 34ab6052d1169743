#include "trainer/trainable_scorer.h"

#include <Eigen/Core>
#include <cmath>
#include <cstring>
#include <random>

#include "absl/strings/str_cat.h"
#include "common/status_macros.h"

namespace ranker {
namespace {

using RowMatrix = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
using Map = Eigen::Map<RowMatrix>;
using ConstMap = Eigen::Map<const RowMatrix>;
using VecMap = Eigen::Map<Eigen::VectorXf>;
using ConstVecMap = Eigen::Map<const Eigen::VectorXf>;

void AdamUpdate(AlignedVector<float>& p, const AlignedVector<float>& g, AlignedVector<float>& m,
                AlignedVector<float>& v, float lr, double c1, double c2) {
  constexpr float kBeta1 = 0.9f, kBeta2 = 0.999f, kEps = 1e-8f;
  for (size_t i = 0; i < p.size(); ++i) {
    m[i] = kBeta1 * m[i] + (1 - kBeta1) * g[i];
    v[i] = kBeta2 * v[i] + (1 - kBeta2) * g[i] * g[i];
    p[i] -= lr * static_cast<float>((m[i] / c1) / (std::sqrt(v[i] / c2) + kEps));
  }
}

}  // namespace

absl::StatusOr<ScorerMode> ParseScorerMode(const std::string& name) {
  if (name == "mlp+dot") return ScorerMode::kMlpDot;
  if (name == "mlp") return ScorerMode::kMlp;
  if (name == "dot") return ScorerMode::kDot;
  return absl::InvalidArgumentError(
      absl::StrCat("unknown scorer '", name, "' (mlp+dot, mlp or dot)"));
}

std::string ScorerModeName(ScorerMode mode) {
  switch (mode) {
    case ScorerMode::kMlpDot:
      return "mlp+dot";
    case ScorerMode::kMlp:
      return "mlp";
    case ScorerMode::kDot:
      return "dot";
  }
  return "?";
}

void ScorerGradient::Clear() {
  for (auto& w : weights) std::fill(w.begin(), w.end(), 0.0f);
  for (auto& b : biases) std::fill(b.begin(), b.end(), 0.0f);
  alpha = 0;
}

void ScorerGradient::Add(const ScorerGradient& other) {
  for (size_t l = 0; l < weights.size(); ++l) {
    for (size_t i = 0; i < weights[l].size(); ++i) weights[l][i] += other.weights[l][i];
    for (size_t i = 0; i < biases[l].size(); ++i) biases[l][i] += other.biases[l][i];
  }
  alpha += other.alpha;
}

TrainableScorer::TrainableScorer(uint32_t d, std::vector<uint32_t> hidden, ScorerMode mode,
                                 uint64_t seed)
    : d_(d), mode_(mode), alpha_(mode == ScorerMode::kMlp ? 0.0f : 1.0f) {
  widths_.push_back(3 * d);
  if (mode != ScorerMode::kDot) widths_.insert(widths_.end(), hidden.begin(), hidden.end());
  widths_.push_back(1);
  std::mt19937_64 rng(seed);
  for (size_t l = 0; l + 1 < widths_.size(); ++l) {
    const size_t in = widths_[l], out = widths_[l + 1];
    AlignedVector<float> w(in * out, 0.0f);
    if (mode != ScorerMode::kDot) {
      // He initialisation for ReLU layers; the output layer starts at zero (a residual on the
      // dot product, see set_mlp_frozen).
      if (l + 2 < widths_.size()) {
        std::normal_distribution<float> normal(0.0f, std::sqrt(2.0f / static_cast<float>(in)));
        for (float& x : w) x = normal(rng);
      }
    }
    weights_.push_back(std::move(w));
    biases_.push_back(AlignedVector<float>(out, 0.0f));
    m_w_.push_back(AlignedVector<float>(in * out, 0.0f));
    v_w_.push_back(AlignedVector<float>(in * out, 0.0f));
    m_b_.push_back(AlignedVector<float>(out, 0.0f));
    v_b_.push_back(AlignedVector<float>(out, 0.0f));
  }
}

ScorerGradient TrainableScorer::MakeGradient() const {
  ScorerGradient g;
  for (size_t l = 0; l < weights_.size(); ++l) {
    g.weights.push_back(AlignedVector<float>(weights_[l].size(), 0.0f));
    g.biases.push_back(AlignedVector<float>(biases_[l].size(), 0.0f));
  }
  return g;
}

void TrainableScorer::Forward(const float* users, const float* items, int rows, float* scores,
                              ScorerCache* cache) const {
  const int d = static_cast<int>(d_);
  cache->rows = rows;
  cache->dot.resize(rows);
  ConstMap u(users, rows, d), v(items, rows, d);
  VecMap(cache->dot.data(), rows) = (u.array() * v.array()).rowwise().sum();
  VecMap out(scores, rows);
  if (mode_ == ScorerMode::kDot) {
    out = alpha_ * VecMap(cache->dot.data(), rows);
    return;
  }
  cache->input.resize(static_cast<size_t>(rows) * 3 * d);
  Map x(cache->input.data(), rows, 3 * d);
  x.leftCols(d) = u;
  x.middleCols(d, d) = v;
  x.rightCols(d) = u.cwiseProduct(v);
  const size_t layers = weights_.size();
  cache->activations.resize(layers - 1);
  const float* input = cache->input.data();
  for (size_t l = 0; l < layers; ++l) {
    const int in = static_cast<int>(widths_[l]), width = static_cast<int>(widths_[l + 1]);
    ConstMap a(input, rows, in);
    ConstMap w(weights_[l].data(), width, in);
    if (l + 1 == layers) {
      out.noalias() = a * w.transpose();
      out.array() += biases_[l][0];
    } else {
      AlignedVector<float>& next = cache->activations[l];
      next.resize(static_cast<size_t>(rows) * width);
      Map h(next.data(), rows, width);
      h.noalias() = a * w.transpose();
      h.rowwise() += ConstVecMap(biases_[l].data(), width).transpose();
      h = h.cwiseMax(0.0f);
      input = next.data();
    }
  }
  if (mode_ == ScorerMode::kMlpDot) out += alpha_ * VecMap(cache->dot.data(), rows);
}

void TrainableScorer::Backward(const float* users, const float* items, const ScorerCache& cache,
                               const float* d_scores, float* d_users, float* d_items,
                               ScorerGradient* grad) const {
  const int d = static_cast<int>(d_), rows = cache.rows;
  ConstMap u(users, rows, d), v(items, rows, d);
  ConstVecMap ds(d_scores, rows);
  Map du(d_users, rows, d), dv(d_items, rows, d);
  // Dot term.
  if (mode_ != ScorerMode::kMlp) {
    grad->alpha += ds.dot(ConstVecMap(cache.dot.data(), rows));
    du = alpha_ * (ds.asDiagonal() * v);
    dv = alpha_ * (ds.asDiagonal() * u);
  } else {
    du.setZero();
    dv.setZero();
  }
  if (mode_ == ScorerMode::kDot) return;
  const size_t layers = weights_.size();
  // dz for the output layer is ds (rows x 1).
  RowMatrix dz = ds;
  for (size_t l = layers; l-- > 0;) {
    const int in = static_cast<int>(widths_[l]), width = static_cast<int>(widths_[l + 1]);
    const float* input = l == 0 ? cache.input.data() : cache.activations[l - 1].data();
    ConstMap a(input, rows, in);
    Map(grad->weights[l].data(), width, in).noalias() += dz.transpose() * a;
    VecMap(grad->biases[l].data(), width) += dz.colwise().sum().transpose();
    RowMatrix da = dz * ConstMap(weights_[l].data(), width, in);  // rows x in
    if (l > 0) {
      da = (a.array() > 0.0f).select(da, 0.0f);  // ReLU'
      dz = std::move(da);
    } else {
      du += da.leftCols(d) + da.rightCols(d).cwiseProduct(v);
      dv += da.middleCols(d, d) + da.rightCols(d).cwiseProduct(u);
    }
  }
}

void TrainableScorer::ApplyAdam(const ScorerGradient& grad, float learning_rate) {
  ++step_;
  const double c1 = 1 - std::pow(0.9, step_), c2 = 1 - std::pow(0.999, step_);
  if (mode_ != ScorerMode::kDot && !mlp_frozen_) {
    for (size_t l = 0; l < weights_.size(); ++l) {
      AdamUpdate(weights_[l], grad.weights[l], m_w_[l], v_w_[l], learning_rate, c1, c2);
      AdamUpdate(biases_[l], grad.biases[l], m_b_[l], v_b_[l], learning_rate, c1, c2);
    }
  }
  if (mode_ != ScorerMode::kMlp) {
    m_alpha_ = 0.9 * m_alpha_ + 0.1 * grad.alpha;
    v_alpha_ = 0.999 * v_alpha_ + 0.001 * grad.alpha * grad.alpha;
    alpha_ -=
        static_cast<float>(learning_rate * (m_alpha_ / c1) / (std::sqrt(v_alpha_ / c2) + 1e-8));
  }
}

absl::Status TrainableScorer::Export(TensorMap* tensors, snapshot::ScorerSpec* spec) const {
  spec->clear_widths();
  for (uint32_t w : widths_) spec->add_widths(w);
  spec->set_dot_weight(mode_ == ScorerMode::kMlp ? 0.0f : alpha_);
  for (size_t l = 0; l < weights_.size(); ++l) {
    ASSIGN_OR_RETURN(Tensor w, MakeFloatTensor({widths_[l + 1], widths_[l]}));
    std::memcpy(w.bytes.data(), weights_[l].data(), weights_[l].size() * sizeof(float));
    ASSIGN_OR_RETURN(Tensor b, MakeFloatTensor({widths_[l + 1]}));
    std::memcpy(b.bytes.data(), biases_[l].data(), biases_[l].size() * sizeof(float));
    (*tensors)[MlpTensorName(l, "weight")] = std::move(w);
    (*tensors)[MlpTensorName(l, "bias")] = std::move(b);
  }
  return absl::OkStatus();
}

}  // namespace ranker
