#include "trainer/trainable_table.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <numeric>
#include <random>

#include "absl/strings/str_cat.h"
#include "common/status_macros.h"
#include "trainer/table_gradients.h"

namespace ranker {
namespace {

ParamTensor MakeParam(std::string name, size_t rows, size_t width, float mean, float stddev,
                      std::mt19937_64& rng) {
  ParamTensor p{std::move(name),
                rows,
                width,
                mean,
                std::vector<float>(rows * width),
                std::vector<float>(rows * width, 0.0f),
                {},
                {}};
  std::normal_distribution<float> normal(mean, stddev);
  for (float& v : p.values) v = stddev > 0 ? normal(rng) : mean;
  return p;
}

}  // namespace

absl::StatusOr<TableOptimizer> ParseTableOptimizer(const std::string& name) {
  if (name == "adagrad") return TableOptimizer::kAdagrad;
  if (name == "adam") return TableOptimizer::kAdam;
  return absl::InvalidArgumentError(
      absl::StrCat("unknown table optimizer '", name, "' (adagrad or adam)"));
}

std::string TableOptimizerName(TableOptimizer optimizer) {
  return optimizer == TableOptimizer::kAdam ? "adam" : "adagrad";
}

void TableGradient::Resize(const std::vector<ParamTensor>& params) {
  buffers_.resize(params.size());
  for (size_t t = 0; t < params.size(); ++t) {
    buffers_[t].width = params[t].width;
    buffers_[t].values.assign(params[t].rows * params[t].width, 0.0f);
    buffers_[t].touched_flag.assign(params[t].rows, 0);
    buffers_[t].touched.clear();
  }
}

float* TableGradient::Row(size_t tensor, size_t row) {
  Buffer& b = buffers_[tensor];
  if (!b.touched_flag[row]) {
    b.touched_flag[row] = 1;
    b.touched.push_back(static_cast<uint32_t>(row));
  }
  return b.values.data() + row * b.width;
}

void TableGradient::Merge(TableGradient& other) {
  for (size_t t = 0; t < buffers_.size(); ++t) {
    Buffer& from = other.buffers_[t];
    for (uint32_t row : from.touched) {
      float* dst = Row(t, row);
      float* src = from.values.data() + row * from.width;
      for (size_t k = 0; k < from.width; ++k) {
        dst[k] += src[k];
        src[k] = 0;
      }
      from.touched_flag[row] = 0;
    }
    from.touched.clear();
  }
}

void TableGradient::Clear() {
  for (Buffer& b : buffers_) {
    for (uint32_t row : b.touched) {
      std::fill_n(b.values.begin() + row * b.width, b.width, 0.0f);
      b.touched_flag[row] = 0;
    }
    b.touched.clear();
  }
}

absl::StatusOr<TrainableTable> TrainableTable::Create(const TableSpec& spec,
                                                      const std::vector<uint32_t>& frequencies,
                                                      uint64_t seed, float init_scale) {
  RETURN_IF_ERROR(CheckTableSpec(spec));
  TrainableTable table;
  table.spec_ = spec;
  table.layout_ = FindTableLayout(spec.kind());
  table.kind_ = FindTableGradient(spec.kind());
  if (table.kind_ == nullptr) {
    return absl::FailedPreconditionError(
        absl::StrCat("table kind ", table.layout_->name, " has no trainer"));
  }
  std::mt19937_64 rng(seed);
  for (const TensorLayout& tensor : table.layout_->tensors) {
    const uint64_t rows = ExtentOf(tensor.rows, spec);
    if (tensor.role == TensorRole::kParameter) {
      const float stddev = tensor.anchor != 0 ? 0.01f : init_scale;
      table.params_.push_back(MakeParam(tensor.part, rows, tensor.per_dimension ? spec.d() : 1,
                                        tensor.anchor, stddev, rng));
      continue;
    }
    if (!table.subset_ids_.empty() || rows > spec.n()) {
      return absl::FailedPreconditionError("a table holds at most one entity subset of <= n");
    }
    // The entity subset goes to the most frequent entities (ties: the lower index).
    std::vector<uint32_t> order(spec.n());
    std::iota(order.begin(), order.end(), 0);
    std::stable_sort(order.begin(), order.end(), [&](uint32_t a, uint32_t b) {
      const uint32_t fa = a < frequencies.size() ? frequencies[a] : 0;
      const uint32_t fb = b < frequencies.size() ? frequencies[b] : 0;
      return fa > fb;
    });
    table.subset_ids_.assign(order.begin(), order.begin() + static_cast<ptrdiff_t>(rows));
    std::sort(table.subset_ids_.begin(), table.subset_ids_.end());
    table.subset_slot_.assign(spec.n(), -1);
    for (size_t p = 0; p < table.subset_ids_.size(); ++p) {
      table.subset_slot_[table.subset_ids_[p]] = static_cast<int32_t>(p);
    }
  }
  return table;
}

void TrainableTable::Embed(uint32_t index, float* out) const { kind_->embed(*this, index, out); }

void TrainableTable::Backward(uint32_t index, const float* grad_e, TableGradient* grad) const {
  kind_->backward(*this, index, grad_e, grad);
}

void TrainableTable::ApplyAdagrad(TableGradient* grad, float learning_rate, float weight_decay) {
  for (size_t t = 0; t < params_.size(); ++t) {
    ParamTensor& p = params_[t];
    TableGradient::Buffer& b = grad->buffers_[t];
    for (uint32_t row : b.touched) {
      for (size_t k = 0; k < p.width; ++k) {
        const size_t i = row * p.width + k;
        const float g = b.values[i] + weight_decay * (p.values[i] - p.anchor);
        p.adagrad[i] += g * g;
        p.values[i] -= learning_rate * g / (std::sqrt(p.adagrad[i]) + 1e-8f);
      }
    }
  }
  grad->Clear();
}

void TrainableTable::ApplyAdam(TableGradient* grad, float learning_rate, float weight_decay,
                               int64_t step) {
  constexpr double kBeta1 = 0.9, kBeta2 = 0.999;
  constexpr float kEpsilon = 1e-8f;
  const float correction1 = static_cast<float>(1 - std::pow(kBeta1, static_cast<double>(step)));
  const float correction2 = static_cast<float>(1 - std::pow(kBeta2, static_cast<double>(step)));
  for (size_t t = 0; t < params_.size(); ++t) {
    ParamTensor& p = params_[t];
    if (p.adam_m.empty()) {
      p.adam_m.assign(p.values.size(), 0.0f);
      p.adam_v.assign(p.values.size(), 0.0f);
    }
    TableGradient::Buffer& b = grad->buffers_[t];
    for (uint32_t row : b.touched) {
      for (size_t k = 0; k < p.width; ++k) {
        const size_t i = row * p.width + k;
        const float g = b.values[i] + weight_decay * (p.values[i] - p.anchor);
        p.adam_m[i] = static_cast<float>(kBeta1) * p.adam_m[i] + static_cast<float>(1 - kBeta1) * g;
        p.adam_v[i] =
            static_cast<float>(kBeta2) * p.adam_v[i] + static_cast<float>(1 - kBeta2) * g * g;
        p.values[i] -= learning_rate * (p.adam_m[i] / correction1) /
                       (std::sqrt(p.adam_v[i] / correction2) + kEpsilon);
      }
    }
  }
  grad->Clear();
}

absl::Status TrainableTable::Export(const std::vector<uint64_t>& ids, TensorMap* tensors,
                                    TableSpec* spec) const {
  *spec = spec_;
  const std::string& f = spec_.feature();
  bool dense = true;
  for (size_t i = 0; i < ids.size() && dense; ++i) dense = ids[i] == i;
  spec->set_has_id_map(!dense);
  if (!dense) {
    ASSIGN_OR_RETURN((*tensors)[TableTensorName(f, "id_map")], MakeUint64Tensor(ids));
  }
  size_t param = 0;
  for (const TensorLayout& layout : layout_->tensors) {
    const std::string name = TensorNameOf(layout, spec_);
    if (layout.role == TensorRole::kEntitySubset) {
      ASSIGN_OR_RETURN((*tensors)[name], MakeUint64Tensor(subset_ids_));
      continue;
    }
    const ParamTensor& p = params_[param++];
    ASSIGN_OR_RETURN(Tensor tensor, MakeFloatTensor(TensorShape(layout, spec_)));
    std::memcpy(tensor.bytes.data(), p.values.data(), p.values.size() * sizeof(float));
    (*tensors)[name] = std::move(tensor);
  }
  return absl::OkStatus();
}

}  // namespace ranker
