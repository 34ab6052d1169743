#include "model/table_forward.h"

#include <algorithm>
#include <cmath>
#include <cstring>

#include "model/id_hash.h"

namespace ranker {
namespace {

inline void Copy(const float* row, uint32_t d, float* out) {
  std::memcpy(out, row, d * sizeof(float));
}

inline void Scale(const float* row, float weight, uint32_t d, float* out) {
  for (uint32_t k = 0; k < d; ++k) out[k] = row[k] * weight;
}

// Each kind: Embed (a dense index below n) and EmbedUnknown (any other id). Tensor numbers
// are positions in the kind's layout (table_layout.cc).
struct Full {
  static void Embed(const TableTensors& t, uint64_t i, float* out) {
    Copy(t.floats(0) + i * t.spec->d(), t.spec->d(), out);
  }
  static void EmbedUnknown(const TableTensors& t, uint64_t, float* out) {
    std::memset(out, 0, t.spec->d() * sizeof(float));
  }
};

struct Hash {
  static void Embed(const TableTensors& t, uint64_t i, float* out) {
    Copy(t.floats(0) + SharedRow(*t.spec, i) * t.spec->d(), t.spec->d(), out);
  }
  static void EmbedUnknown(const TableTensors& t, uint64_t id, float* out) { Embed(t, id, out); }
};

struct Memcom {
  static void Embed(const TableTensors& t, uint64_t i, float* out) {
    const uint32_t d = t.spec->d();
    Scale(t.floats(0) + SharedRow(*t.spec, i) * d, t.floats(1)[i], d, out);
  }
  static void EmbedUnknown(const TableTensors& t, uint64_t id, float* out) {
    Hash::Embed(t, id, out);
  }
};

struct MemcomFreq {
  static void Embed(const TableTensors& t, uint64_t i, float* out) {
    const uint32_t d = t.spec->d();
    const uint64_t* ids = t.ids(3);
    const uint64_t* end = ids + t.spec->dedicated();
    const uint64_t* it = std::lower_bound(ids, end, i);
    const float* row = it != end && *it == i ? t.floats(2) + (it - ids) * d
                                             : t.floats(0) + SharedRow(*t.spec, i) * d;
    Scale(row, t.floats(1)[i], d, out);
  }
  static void EmbedUnknown(const TableTensors& t, uint64_t id, float* out) {
    Hash::Embed(t, id, out);
  }
};

struct Memcom2 {
  static void Embed(const TableTensors& t, uint64_t i, float* out) {
    const uint32_t d = t.spec->d();
    const float* a = t.floats(0) + SharedRow(*t.spec, i) * d;
    const float* b = t.floats(2) + SecondRow(*t.spec, i) * d;
    const float wa = t.floats(1)[i], wb = t.floats(3)[i];
    // An explicit fma: contraction left to the compiler would differ between the trainer's,
    // the server's and the tests' copies of this sum, and they must agree bit for bit.
    for (uint32_t k = 0; k < d; ++k) out[k] = std::fma(b[k], wb, a[k] * wa);
  }
  static void EmbedUnknown(const TableTensors& t, uint64_t id, float* out) {
    const uint32_t d = t.spec->d();
    const float* a = t.floats(0) + SharedRow(*t.spec, id) * d;
    const float* b = t.floats(2) + SecondRow(*t.spec, id) * d;
    for (uint32_t k = 0; k < d; ++k) out[k] = a[k] + b[k];
  }
};

struct Qr {
  static void Embed(const TableTensors& t, uint64_t i, float* out) {
    const uint32_t d = t.spec->d();
    const uint64_t m = t.spec->m();
    const float* r = t.floats(0) + (i % m) * d;
    const float* q = t.floats(1) + (i / m) * d;
    for (uint32_t k = 0; k < d; ++k) out[k] = q[k] * r[k];
  }
  static void EmbedUnknown(const TableTensors& t, uint64_t id, float* out) {
    Hash::Embed(t, id, out);
  }
};

// One loop per kind, so each kind's Embed inlines into it.
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

constexpr TableForward kForwards[] = {
    {snapshot::FULL, Gather<Full>},
    {snapshot::HASH, Gather<Hash>},
    {snapshot::QR, Gather<Qr>},
    {snapshot::MEMCOM, Gather<Memcom>},
    {snapshot::MEMCOM_FREQ, Gather<MemcomFreq>},
    {snapshot::MEMCOM2, Gather<Memcom2>},
};

}  // namespace

const TableForward* FindTableForward(TableKind kind) {
  for (const TableForward& forward : kForwards) {
    if (forward.kind == kind) return &forward;
  }
  return nullptr;
}

}  // namespace ranker
