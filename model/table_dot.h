// Retrieval scores u . e_i of a table's entities without building e_i: the compressed-domain
// form of each kind, one small struct per kind in table_dot.cc. Per request, `prepare` turns the
// user vector into what the kind's scores read ("projected"), then every score is a few loads:
//   full         E[i] . u                          (a GEMV over the table: memory-bound;
//                                                  pq rows: a lookup table per code group)
//   hash         t[h(i)]                           t = S u    (m floats)
//   memcom       w[i] * t[h(i)]                    t = S u
//   memcom_freq  w[i] * t[slot(i)]                 t = [S u; D u]  (slot: shared or dedicated row)
//   memcom2      w[i] * t[h(i)] + w2[i] * t2[h2(i)]   t = S u, t2 = S2 u
//   qr           R[i mod m] . (u * Q[i / m])       v_q = u * Q[q] for every quotient row
// where h(i) is the shared row h(i) mod m. Unknown ids score as their fallback embedding
// (table_forward.h). The scores equal u . e_i up to float rounding (summation order differs;
// int8 rows apply their scale after the sum; pq rows sum per-sub-vector products from a lookup
// table, table_dot.cc). Each kind has float32, int8 and pq row versions.
#ifndef RANKER_MODEL_TABLE_DOT_H_
#define RANKER_MODEL_TABLE_DOT_H_

#include <array>
#include <cstddef>
#include <cstdint>
#include <vector>

#include "absl/status/statusor.h"
#include "model/aligned_buffer.h"
#include "model/pq_scan.h"
#include "model/table_forward.h"

namespace ranker {

// Per-entity row numbers the scores read where computing them per item would cost more than
// reading them: a mixed hash (a 64-bit mix and a division per item), memcom_freq's slots (a
// search of the dedicated ids). One uint32 per entity and per hashed row; built at load,
// counted in the table's resident bytes. Identity-hashed tables need none: i mod m runs.
struct DotRowIndex {
  std::array<AlignedBuffer, 2> rows;  // empty buffers when not needed
};

// Builds the row index a table of `tensors` needs (possibly none). FAILED_PRECONDITION if its
// rows do not fit in uint32.
absl::StatusOr<DotRowIndex> BuildDotRowIndex(const TableTensors& tensors);

// One user's retrieval state, reused across requests (grows to the largest table seen).
struct DotQuery {
  // d floats, borrowed: read by prepare and by some kinds' scores (full, qr's unknown ids), so
  // valid until the last score of the request.
  const float* user = nullptr;
  AlignedVector<float> projected;  // the kind's per-user vectors (see above)
  PqScanScratch scan;              // top_candidates' state
};

// The scores read the table's row index where BuildDotRowIndex builds one (tensors.rows).
struct TableDot {
  TableKind kind;
  DType row_dtype;  // FLOAT32, INT8 or UINT8 (pq codes; table_rows.h)
  // Fills query->projected from query->user.
  void (*prepare)(const TableTensors& tensors, DotQuery* query);
  // Rows of d floats prepare reads (0 for full float32 and int8 rows; 2^bits for full pq rows,
  // whose codebook it reads): its cost, which a request scoring fewer items
  // than this does better to skip (build the embeddings and take their dot products instead).
  uint64_t (*prepare_rows)(const TableSpec& spec);
  // scores[r] = u . e(first + r) for r < count. REQUIRES: first + count <= n.
  void (*score_range)(const TableTensors& tensors, const DotQuery& query, uint64_t first,
                      size_t count, float* scores);
  // scores[r] = u . e(indices[r]), or of the raw id raw_ids[r] where indices[r] is
  // kUnknownIndex.
  void (*score_indices)(const TableTensors& tensors, const DotQuery& query, const uint64_t* indices,
                        const uint64_t* raw_ids, size_t count, float* scores);
  // Optional (nullptr where the storage has none; so far full tables of 8-bit pq codes, single
  // width or head/tail): fills `items` with the increasing indices of every item whose score
  // can be among the `keep` best over the whole table, ties included, from bounded estimates
  // (pq_scan.h) instead of every exact score. Scoring just these exactly keeps the same best
  // items as scoring all. False (items unspecified) when this table or query cannot use it
  // (4-bit codes, a lookup table that is not finite): score every item then.
  bool (*top_candidates)(const TableTensors& tensors, DotQuery* query, size_t keep,
                         std::vector<uint64_t>* items);
};

// nullptr if `kind` has no retrieval scores.
const TableDot* FindTableDot(TableKind kind, DType row_dtype = snapshot::FLOAT32);
// The scores of `spec`'s kind and row storage, head/tail pq rows included; nullptr if none.
const TableDot* FindTableDot(const TableSpec& spec);

}  // namespace ranker

#endif  // RANKER_MODEL_TABLE_DOT_H_
