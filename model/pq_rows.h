// Product-quantised rows (TableSpec.row_dtype = UINT8): each d-wide parameter row of a table is
// split into pq_subvectors sub-vectors of d / pq_subvectors floats, and each sub-vector is stored
// as the code (4 or 8 bits) of its nearest centroid in a codebook of 2^pq_bits centroids per
// sub-vector position, learned by k-means on the table's trained rows. A row decodes to its
// centroids exactly (table_rows.h), so a pq table embeds bit-identically to the float table of
// its decoded rows. Per-entity weights and id tensors are not touched. Composable with every
// kind. Pure functions; deterministic for a seed.
#ifndef RANKER_MODEL_PQ_ROWS_H_
#define RANKER_MODEL_PQ_ROWS_H_

#include <cstddef>
#include <cstdint>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "model/snapshot.h"
#include "model/table_layout.h"

namespace ranker {

struct PqOptions {
  uint32_t subvectors = 16;  // divides d; even for 4-bit codes
  uint32_t bits = 8;         // 4 or 8
  int iterations = 20;       // k-means (Lloyd) iterations per sub-vector position
  // K-means fits the centroids on at most this many rows (a seeded sample), then every row is
  // encoded: the cost stays bounded for a million-row table.
  size_t max_training_rows = 65536;
  uint64_t seed = 1;
};

// A codebook and the codes of `rows` (count x d floats) under it.
struct PqEncoding {
  std::vector<float> codebook;  // [subvectors * 2^bits, d / subvectors], position j's block j
  std::vector<uint8_t> codes;   // [count, subvectors * bits / 8]; 4-bit codes: low nibble first
};

// Learns the codebook by k-means on `rows` and encodes them (each sub-vector to its nearest
// centroid, the lowest code on a tie). REQUIRES: finite rows, options valid for d.
PqEncoding EncodePq(const float* rows, uint64_t count, uint32_t d, const PqOptions& options);

// Replaces each float row tensor of `spec`'s table in `tensors` by its codes and a
// "<part>_codebook" tensor, and sets spec's row storage to pq. FAILED_PRECONDITION, changing
// nothing, if the table's rows are not float32 (already int8 or pq), the options do not fit d,
// a row tensor is missing, not FLOAT32 of the layout's shape or not finite, or a codebook tensor
// exists already.
absl::Status ConvertTableToPq(const PqOptions& options, TableSpec* spec, TensorMap* tensors);

// The float rows the codes of row tensor `tensor` of a pq table decode to ([rows, d]).
// FAILED_PRECONDITION if the table has no pq rows, or the codes or codebook are missing or of
// the wrong shape.
absl::StatusOr<std::vector<float>> DecodePqTensor(const TableSpec& spec, const TensorMap& tensors,
                                                  const TensorLayout& tensor);

// Fine-tuning with the codes fixed: `float_tensors` holds a float table of `pq_spec`'s kind and
// shape (rows trained on from the decoded ones); each of its row tensors becomes the codes of
// `pq_tensors` with a codebook refitted to it (each centroid the mean of the sub-vectors whose
// code it is: the least-squares codebook for those codes; a centroid no row uses keeps its
// value), and *float_spec takes pq_spec's row storage. FAILED_PRECONDITION as DecodePqTensor, or
// for a missing float tensor (a table with two row tensors may then be half refitted).
absl::Status RefitPqTable(const TableSpec& pq_spec, const TensorMap& pq_tensors,
                          TableSpec* float_spec, TensorMap* float_tensors);

}  // namespace ranker

#endif  // RANKER_MODEL_PQ_ROWS_H_
