#include "trainer/table_gradients.h"

#include <cmath>
#include <cstring>

#include "model/id_hash.h"
#include "trainer/trainable_table.h"

namespace ranker {
namespace {

// Tensor numbers are positions in the kind's layout (model/table_layout.cc).
const float* RowOf(const TrainableTable& t, size_t tensor, uint64_t row) {
  return t.params()[tensor].values.data() + row * t.dim();
}

void AddTo(float* dst, const float* g, uint32_t d) {
  for (uint32_t k = 0; k < d; ++k) dst[k] += g[k];
}

struct Full {
  static void Embed(const TrainableTable& t, uint32_t i, float* out) {
    std::memcpy(out, RowOf(t, 0, i), t.dim() * sizeof(float));
  }
  static void Backward(const TrainableTable& t, uint32_t i, const float* g, TableGradient* grad) {
    AddTo(grad->Row(0, i), g, t.dim());
  }
};

struct Hash {
  static void Embed(const TrainableTable& t, uint32_t i, float* out) {
    std::memcpy(out, RowOf(t, 0, SharedRow(t.spec(), i)), t.dim() * sizeof(float));
  }
  static void Backward(const TrainableTable& t, uint32_t i, const float* g, TableGradient* grad) {
    AddTo(grad->Row(0, SharedRow(t.spec(), i)), g, t.dim());
  }
};

// memcom and memcom_freq: e = row * w[i], where row is the shared row (tensor 0) or, for an
// entity in memcom_freq's subset, its dedicated row (tensor 2).
struct Memcom {
  struct Source {
    size_t tensor;
    uint64_t row;
  };
  static Source RowSource(const TrainableTable& t, uint32_t i) {
    const int32_t slot = t.SubsetSlot(i);
    if (slot >= 0) return {2, static_cast<uint64_t>(slot)};
    return {0, SharedRow(t.spec(), i)};
  }
  static void Embed(const TrainableTable& t, uint32_t i, float* out) {
    const Source source = RowSource(t, i);
    const float* row = RowOf(t, source.tensor, source.row);
    const float w = t.params()[1].values[i];
    for (uint32_t k = 0; k < t.dim(); ++k) out[k] = row[k] * w;
  }
  static void Backward(const TrainableTable& t, uint32_t i, const float* g, TableGradient* grad) {
    const Source source = RowSource(t, i);
    const float* row = RowOf(t, source.tensor, source.row);
    const float w = t.params()[1].values[i];
    float* d_row = grad->Row(source.tensor, source.row);
    float d_w = 0;
    for (uint32_t k = 0; k < t.dim(); ++k) {
      d_row[k] += w * g[k];
      d_w += row[k] * g[k];
    }
    grad->Row(1, i)[0] += d_w;
  }
};

// e = S[h(i)] * w[i] + S2[h2(i)] * w2[i]: tensors shared, weight, shared2, weight2.
struct Memcom2 {
  static void Embed(const TrainableTable& t, uint32_t i, float* out) {
    const float* a = RowOf(t, 0, SharedRow(t.spec(), i));
    const float* b = RowOf(t, 2, SecondRow(t.spec(), i));
    const float wa = t.params()[1].values[i], wb = t.params()[3].values[i];
    // std::fma exactly as the serving forward (model/table_forward.cc) computes it.
    for (uint32_t k = 0; k < t.dim(); ++k) out[k] = std::fma(b[k], wb, a[k] * wa);
  }
  static void Backward(const TrainableTable& t, uint32_t i, const float* g, TableGradient* grad) {
    const uint64_t row_a = SharedRow(t.spec(), i), row_b = SecondRow(t.spec(), i);
    const float* a = RowOf(t, 0, row_a);
    const float* b = RowOf(t, 2, row_b);
    const float wa = t.params()[1].values[i], wb = t.params()[3].values[i];
    float* d_a = grad->Row(0, row_a);
    float* d_b = grad->Row(2, row_b);
    float d_wa = 0, d_wb = 0;
    for (uint32_t k = 0; k < t.dim(); ++k) {
      d_a[k] += wa * g[k];
      d_b[k] += wb * g[k];
      d_wa += a[k] * g[k];
      d_wb += b[k] * g[k];
    }
    grad->Row(1, i)[0] += d_wa;
    grad->Row(3, i)[0] += d_wb;
  }
};

// e = Q[i / m] * R[i mod m]: remainder is tensor 0, quotient tensor 1.
struct Qr {
  static void Embed(const TrainableTable& t, uint32_t i, float* out) {
    const uint64_t m = t.spec().m();
    const float* r = RowOf(t, 0, i % m);
    const float* q = RowOf(t, 1, i / m);
    for (uint32_t k = 0; k < t.dim(); ++k) out[k] = q[k] * r[k];
  }
  static void Backward(const TrainableTable& t, uint32_t i, const float* g, TableGradient* grad) {
    const uint64_t m = t.spec().m();
    const float* r = RowOf(t, 0, i % m);
    const float* q = RowOf(t, 1, i / m);
    float* d_r = grad->Row(0, i % m);
    float* d_q = grad->Row(1, i / m);
    for (uint32_t k = 0; k < t.dim(); ++k) {
      d_r[k] += g[k] * q[k];
      d_q[k] += g[k] * r[k];
    }
  }
};

template <typename Kind>
constexpr TableGradientKind Make(TableKind kind) {
  return {kind, Kind::Embed, Kind::Backward};
}

constexpr TableGradientKind kKinds[] = {
    Make<Full>(snapshot::FULL),
    Make<Hash>(snapshot::HASH),
    Make<Qr>(snapshot::QR),
    Make<Memcom>(snapshot::MEMCOM),
    Make<Memcom>(snapshot::MEMCOM_FREQ),
    Make<Memcom2>(snapshot::MEMCOM2),
};

}  // namespace

const TableGradientKind* FindTableGradient(TableKind kind) {
  for (const TableGradientKind& entry : kKinds) {
    if (entry.kind == kind) return &entry;
  }
  return nullptr;
}

}  // namespace ranker
