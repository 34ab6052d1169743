#include "model/table_forward.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <cstring>
#include <type_traits>

#include "model/id_hash.h"
#include "model/table_rows.h"

namespace ranker {
namespace {

template <typename RowT>
inline void Copy(const RowT& row, uint32_t d, float* out) {
  if constexpr (std::is_same_v<RowT, const float*>) {
    std::memcpy(out, row, d * sizeof(float));
  } else if constexpr (std::is_same_v<RowT, PqRow>) {
    for (uint32_t j = 0; j * row.sub < d; ++j) {
      std::memcpy(out + j * row.sub, row.Centroid(j), row.sub * sizeof(float));
    }
  } else {
    for (uint32_t k = 0; k < d; ++k) out[k] = row[k];
  }
}

template <typename RowT>
inline void Scale(const RowT& row, float weight, uint32_t d, float* out) {
  for (uint32_t k = 0; k < d; ++k) out[k] = row[k] * weight;
}

// Each kind: Embed (a dense index below n) and EmbedUnknown (any other id), reading rows
// through the policy R (table_rows.h). Tensor numbers are positions in the kind's layout
// (table_layout.cc).
template <typename R>
struct Full {
  static void Embed(const TableTensors& t, uint64_t i, float* out) {
    Copy(R::At(t, 0, i), t.spec->d(), out);
  }
  static void EmbedUnknown(const TableTensors& t, uint64_t, float* out) {
    std::memset(out, 0, t.spec->d() * sizeof(float));
  }
};

template <typename R>
struct Hash {
  static void Embed(const TableTensors& t, uint64_t i, float* out) {
    Copy(R::At(t, 0, SharedRow(*t.spec, i)), t.spec->d(), out);
  }
  static void EmbedUnknown(const TableTensors& t, uint64_t id, float* out) { Embed(t, id, out); }
};

template <typename R>
struct Memcom {
  static void Embed(const TableTensors& t, uint64_t i, float* out) {
    Scale(R::At(t, 0, SharedRow(*t.spec, i)), t.floats(1)[i], t.spec->d(), out);
  }
  static void EmbedUnknown(const TableTensors& t, uint64_t id, float* out) {
    Hash<R>::Embed(t, id, out);
  }
};

template <typename R>
struct MemcomFreq {
  static void Embed(const TableTensors& t, uint64_t i, float* out) {
    const uint32_t d = t.spec->d();
    const uint64_t* ids = t.ids(3);
    const uint64_t* end = ids + t.spec->dedicated();
    const uint64_t* it = std::lower_bound(ids, end, i);
    const float weight = t.floats(1)[i];
    if (it != end && *it == i) {
      Scale(R::At(t, 2, static_cast<uint64_t>(it - ids)), weight, d, out);
    } else {
      Scale(R::At(t, 0, SharedRow(*t.spec, i)), weight, d, out);
    }
  }
  static void EmbedUnknown(const TableTensors& t, uint64_t id, float* out) {
    Hash<R>::Embed(t, id, out);
  }
};

template <typename R>
struct Memcom2 {
  static void Embed(const TableTensors& t, uint64_t i, float* out) {
    const uint32_t d = t.spec->d();
    const auto a = R::At(t, 0, SharedRow(*t.spec, i));
    const auto b = R::At(t, 2, SecondRow(*t.spec, i));
    const float wa = t.floats(1)[i], wb = t.floats(3)[i];
    // An explicit fma: contraction left to the compiler would differ between the trainer's,
    // the server's and the tests' copies of this sum, and they must agree bit for bit.
    for (uint32_t k = 0; k < d; ++k) out[k] = std::fma(b[k], wb, a[k] * wa);
  }
  static void EmbedUnknown(const TableTensors& t, uint64_t id, float* out) {
    const uint32_t d = t.spec->d();
    const auto a = R::At(t, 0, SharedRow(*t.spec, id));
    const auto b = R::At(t, 2, SecondRow(*t.spec, id));
    for (uint32_t k = 0; k < d; ++k) out[k] = a[k] + b[k];
  }
};

template <typename R>
struct Qr {
  static void Embed(const TableTensors& t, uint64_t i, float* out) {
    const uint32_t d = t.spec->d();
    const uint64_t m = t.spec->m();
    const auto r = R::At(t, 0, i % m);
    const auto q = R::At(t, 1, i / m);
    for (uint32_t k = 0; k < d; ++k) out[k] = q[k] * r[k];
  }
  static void EmbedUnknown(const TableTensors& t, uint64_t id, float* out) {
    Hash<R>::Embed(t, id, out);
  }
};

// One loop per kind and row storage, so each kind's Embed inlines into it.
template <typename Kind>
void Gather(const TableTensors& t, const uint64_t* indices, const uint64_t* raw_ids, size_t count,
            float* out) {
  const uint32_t d = t.spec->d();
  for (size_t r = 0; r < count; ++r) {
    if (indices[r] == kUnknownIndex) {
      Kind::EmbedUnknown(t, raw_ids[r], out + r * d);
    } else {
      Kind::Embed(t, indices[r], out + r * d);
    }
  }
}

template <template <typename> class Kind>
constexpr std::array<TableForward, 3> Declare(TableKind kind) {
  return {{{kind, FloatRows::kDType, Gather<Kind<FloatRows>>},
           {kind, Int8Rows::kDType, Gather<Kind<Int8Rows>>},
           {kind, PqRows::kDType, Gather<Kind<PqRows>>}}};
}

constexpr std::array<TableForward, 3> kForwards[] = {
    Declare<Full>(snapshot::FULL),
    Declare<Hash>(snapshot::HASH),
    Declare<Qr>(snapshot::QR),
    Declare<Memcom>(snapshot::MEMCOM),
    Declare<MemcomFreq>(snapshot::MEMCOM_FREQ),
    Declare<Memcom2>(snapshot::MEMCOM2),
};

constexpr TableForward kHeadTailForward = {snapshot::FULL, HeadTailPqRows::kDType,
                                           Gather<Full<HeadTailPqRows>>};

}  // namespace

const TableForward* FindTableForward(const TableSpec& spec) {
  if (HasHeadTailRows(spec)) return spec.kind() == snapshot::FULL ? &kHeadTailForward : nullptr;
  return FindTableForward(spec.kind(), spec.row_dtype());
}

const TableForward* FindTableForward(TableKind kind, DType row_dtype) {
  if (row_dtype == snapshot::DTYPE_UNSPECIFIED) row_dtype = snapshot::FLOAT32;
  for (const std::array<TableForward, 3>& storages : kForwards) {
    for (const TableForward& forward : storages) {
      if (forward.kind == kind && forward.row_dtype == row_dtype) return &forward;
    }
  }
  return nullptr;
}

}  // namespace ranker
