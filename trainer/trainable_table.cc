#include "trainer/trainable_table.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <numeric>
#include <random>

#include "model/embedding_table.h"

namespace ranker {
namespace {

ParamTensor MakeParam(std::string name, size_t rows, size_t width, float mean, float stddev,
                      std::mt19937_64& rng) {
  ParamTensor p{std::move(name), rows, width, std::vector<float>(rows * width),
                std::vector<float>(rows * width, 0.0f)};
  std::normal_distribution<float> normal(mean, stddev);
  for (float& v : p.values) v = stddev > 0 ? normal(rng) : mean;
  return p;
}

}  // namespace

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

TrainableTable::TrainableTable(const TableSpec& spec, const std::vector<uint32_t>& frequencies,
                               uint64_t seed, float init_scale)
    : spec_(spec) {
  std::mt19937_64 rng(seed);
  const size_t n = spec.n(), m = spec.m(), d = spec.d();
  switch (spec.kind()) {
    case snapshot::FULL:
      params_.push_back(MakeParam("embeddings", n, d, 0, init_scale, rng));
      break;
    case snapshot::HASH:
      params_.push_back(MakeParam("shared", m, d, 0, init_scale, rng));
      break;
    case snapshot::MEMCOM:
      params_.push_back(MakeParam("shared", m, d, 0, init_scale, rng));
      params_.push_back(MakeParam("weight", n, 1, 1.0f, 0.01f, rng));
      break;
    case snapshot::MEMCOM_FREQ: {
      params_.push_back(MakeParam("shared", m, d, 0, init_scale, rng));
      params_.push_back(MakeParam("weight", n, 1, 1.0f, 0.01f, rng));
      params_.push_back(MakeParam("dedicated", spec.dedicated(), d, 0, init_scale, rng));
      std::vector<uint32_t> order(n);
      std::iota(order.begin(), order.end(), 0);
      std::stable_sort(order.begin(), order.end(), [&](uint32_t a, uint32_t b) {
        const uint32_t fa = a < frequencies.size() ? frequencies[a] : 0;
        const uint32_t fb = b < frequencies.size() ? frequencies[b] : 0;
        return fa > fb;
      });
      dedicated_ids_.assign(order.begin(), order.begin() + spec.dedicated());
      std::sort(dedicated_ids_.begin(), dedicated_ids_.end());
      dedicated_slot_.assign(n, -1);
      for (size_t p = 0; p < dedicated_ids_.size(); ++p) {
        dedicated_slot_[dedicated_ids_[p]] = static_cast<int32_t>(p);
      }
      break;
    }
    case snapshot::QR:
      // Quotient rows start near 1 so the product starts near the remainder row.
      params_.push_back(MakeParam("remainder", m, d, 0, init_scale, rng));
      params_.push_back(MakeParam("quotient", (n + m - 1) / m, d, 1.0f, 0.01f, rng));
      break;
    default:
      break;
  }
}

uint64_t TrainableTable::SharedRow(uint32_t index) const {
  return HashId(spec_.hash(), spec_.hash_seed(), index) % spec_.m();
}

void TrainableTable::Embed(uint32_t index, float* out) const {
  const size_t d = dim();
  switch (spec_.kind()) {
    case snapshot::FULL:
      std::memcpy(out, params_[0].values.data() + index * d, d * sizeof(float));
      return;
    case snapshot::HASH:
      std::memcpy(out, params_[0].values.data() + SharedRow(index) * d, d * sizeof(float));
      return;
    case snapshot::MEMCOM:
    case snapshot::MEMCOM_FREQ: {
      const int32_t slot = spec_.kind() == snapshot::MEMCOM_FREQ ? dedicated_slot_[index] : -1;
      const float* row = slot >= 0 ? params_[2].values.data() + slot * d
                                   : params_[0].values.data() + SharedRow(index) * d;
      const float w = params_[1].values[index];
      for (size_t k = 0; k < d; ++k) out[k] = row[k] * w;
      return;
    }
    case snapshot::QR: {
      const float* r = params_[0].values.data() + (index % spec_.m()) * d;
      const float* q = params_[1].values.data() + (index / spec_.m()) * d;
      for (size_t k = 0; k < d; ++k) out[k] = q[k] * r[k];
      return;
    }
    default:
      std::fill_n(out, d, 0.0f);
  }
}

void TrainableTable::Backward(uint32_t index, const float* g, TableGradient* grad) const {
  const size_t d = dim();
  switch (spec_.kind()) {
    case snapshot::FULL: {
      float* dst = grad->Row(0, index);
      for (size_t k = 0; k < d; ++k) dst[k] += g[k];
      return;
    }
    case snapshot::HASH: {
      float* dst = grad->Row(0, SharedRow(index));
      for (size_t k = 0; k < d; ++k) dst[k] += g[k];
      return;
    }
    case snapshot::MEMCOM:
    case snapshot::MEMCOM_FREQ: {
      const int32_t slot = spec_.kind() == snapshot::MEMCOM_FREQ ? dedicated_slot_[index] : -1;
      const size_t tensor = slot >= 0 ? 2 : 0;
      const size_t row_index = slot >= 0 ? static_cast<size_t>(slot) : SharedRow(index);
      const float* row = params_[tensor].values.data() + row_index * d;
      const float w = params_[1].values[index];
      float* d_row = grad->Row(tensor, row_index);
      float d_w = 0;
      for (size_t k = 0; k < d; ++k) {
        d_row[k] += w * g[k];
        d_w += row[k] * g[k];
      }
      grad->Row(1, index)[0] += d_w;
      return;
    }
    case snapshot::QR: {
      const size_t r_index = index % spec_.m(), q_index = index / spec_.m();
      const float* r = params_[0].values.data() + r_index * d;
      const float* q = params_[1].values.data() + q_index * d;
      float* d_r = grad->Row(0, r_index);
      float* d_q = grad->Row(1, q_index);
      for (size_t k = 0; k < d; ++k) {
        d_r[k] += g[k] * q[k];
        d_q[k] += g[k] * r[k];
      }
      return;
    }
    default:
      return;
  }
}

void TrainableTable::ApplyAdagrad(TableGradient* grad, float learning_rate, float weight_decay) {
  for (size_t t = 0; t < params_.size(); ++t) {
    ParamTensor& p = params_[t];
    TableGradient::Buffer& b = grad->buffers_[t];
    // MEmCom weights regularise towards 1 (their initial value), not 0.
    const float anchor = p.name == "weight" || p.name == "quotient" ? 1.0f : 0.0f;
    for (uint32_t row : b.touched) {
      for (size_t k = 0; k < p.width; ++k) {
        const size_t i = row * p.width + k;
        const float g = b.values[i] + weight_decay * (p.values[i] - anchor);
        p.adagrad[i] += g * g;
        p.values[i] -= learning_rate * g / (std::sqrt(p.adagrad[i]) + 1e-8f);
      }
    }
  }
  grad->Clear();
}

void TrainableTable::Export(const std::vector<uint64_t>& ids, TensorMap* tensors,
                            TableSpec* spec) const {
  *spec = spec_;
  const std::string& f = spec_.feature();
  bool dense = true;
  for (size_t i = 0; i < ids.size() && dense; ++i) dense = ids[i] == i;
  spec->set_has_id_map(!dense);
  if (!dense) (*tensors)[TableTensorName(f, "id_map")] = *MakeUint64Tensor(ids);
  for (const ParamTensor& p : params_) {
    std::vector<uint64_t> shape = p.width == 1 && p.name == "weight"
                                      ? std::vector<uint64_t>{p.rows}
                                      : std::vector<uint64_t>{p.rows, p.width};
    Tensor tensor = *MakeFloatTensor(shape);
    std::memcpy(tensor.bytes.data(), p.values.data(), p.values.size() * sizeof(float));
    (*tensors)[TableTensorName(f, p.name.c_str())] = std::move(tensor);
  }
  if (spec_.kind() == snapshot::MEMCOM_FREQ) {
    (*tensors)[TableTensorName(f, "dedicated_ids")] = *MakeUint64Tensor(dedicated_ids_);
  }
}

}  // namespace ranker
