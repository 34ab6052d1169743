// The serving forward of every table kind: how a dense index, or an id outside the table,
// becomes its embedding. One small struct per kind in table_forward.cc; the layouts
// (table_layout.h) say which tensors each reads, in which order.
//   full    E[i]                         unknown ids: a zero vector
//   hash    S[h(i) mod m]                unknown ids: S[h(id) mod m]
//   qr      Q[i / m] * R[i mod m]        unknown ids: R[h(id) mod m]
//   memcom  S[h(i) mod m] * w[i]         unknown ids: S[h(id) mod m] (weight 1)
//   memcom_freq  D[p] * w[i] if i is the p-th of the K dedicated (most frequent) entities,
//           else S[h(i) mod m] * w[i]    unknown ids: S[h(id) mod m]
//   memcom2 S[h(i) mod m] * w[i] + S2[h2(i) mod m] * w2[i]
//                                        unknown ids: S[h(id) mod m] + S2[h2(id) mod m]
// Each kind has a forward for float32 rows, one for int8 rows and one for pq codes
// (table_rows.h); full tables one more for head/tail pq codes.
#ifndef RANKER_MODEL_TABLE_FORWARD_H_
#define RANKER_MODEL_TABLE_FORWARD_H_

#include <array>
#include <cstddef>
#include <cstdint>
#include <limits>

#include "model/snapshot.h"
#include "model/table_layout.h"

namespace ranker {

// Marks an entry of `indices` whose embedding comes from its raw id instead (unknown ids).
inline constexpr uint64_t kUnknownIndex = std::numeric_limits<uint64_t>::max();

// The loaded tensors of one table, in its layout's order. Borrowed; immutable.
struct TableTensors {
  const TableSpec* spec = nullptr;
  std::array<const void*, kMaxTableTensors> data{};
  // Int8 row tensors: their per-row scales (nullptr for every other tensor).
  std::array<const float*, kMaxTableTensors> scales{};
  // Pq row tensors: their codebooks (nullptr for every other tensor).
  std::array<const float*, kMaxTableTensors> codebooks{};
  // Derived at load for retrieval (table_dot.h): per-entity row numbers; nullptr when unused.
  std::array<const uint32_t*, 2> rows{};
  // Head/tail pq tables (model/head_tail_rows.h), else nullptr: the tail's codes and codebook,
  // the head bits, and the head entities before each block of kHeadRankBlock (built at load).
  const uint8_t* tail_codes = nullptr;
  const float* tail_codebook = nullptr;
  const uint64_t* head_bits = nullptr;
  const uint32_t* head_rank = nullptr;

  const float* floats(size_t tensor) const { return static_cast<const float*>(data[tensor]); }
  const uint64_t* ids(size_t tensor) const { return static_cast<const uint64_t*>(data[tensor]); }
  const int8_t* int8s(size_t tensor) const { return static_cast<const int8_t*>(data[tensor]); }
  const uint8_t* codes(size_t tensor) const { return static_cast<const uint8_t*>(data[tensor]); }
};

struct TableForward {
  TableKind kind;
  DType row_dtype;  // FLOAT32, INT8 or UINT8 (pq codes)
  // Row r of `out` (count x d, row-major) = the embedding of indices[r] (< n), or of the raw
  // id raw_ids[r] where indices[r] == kUnknownIndex.
  void (*gather)(const TableTensors& tensors, const uint64_t* indices, const uint64_t* raw_ids,
                 size_t count, float* out);
};

// nullptr if `kind` has no forward for `row_dtype` rows (FLOAT32, INT8 or UINT8; unset =
// FLOAT32).
const TableForward* FindTableForward(TableKind kind, DType row_dtype = snapshot::FLOAT32);
// The forward of `spec`'s kind and row storage, head/tail pq rows included; nullptr if none.
const TableForward* FindTableForward(const TableSpec& spec);

}  // namespace ranker

#endif  // RANKER_MODEL_TABLE_FORWARD_H_
