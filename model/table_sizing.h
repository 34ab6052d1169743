// Sizes embedding tables for a target compression ratio, where ratio = parameters of a full
// n x d table / parameters of the compressed table (the paper's "input embedding size").
// The rules themselves are part of each kind's layout (table_layout.h).
#ifndef RANKER_MODEL_TABLE_SIZING_H_
#define RANKER_MODEL_TABLE_SIZING_H_

#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "model/snapshot.h"
#include "model/table_layout.h"

namespace ranker {

// "identity" or "mix:<seed>".
std::string HashName(const TableSpec& spec);

// Parameters a table of `spec` holds: its tensors' bytes / 4 (a uint64 id counts as 2 floats).
// 0 for an unknown kind.
uint64_t TableParameters(const TableSpec& spec);

// Bytes of the table's tensors as stored for its row storage (float32 rows; int8 levels and
// scales; pq codes and codebooks) and its other tensors; no id map. 0 for an unknown kind.
uint64_t StoredTableBytes(const TableSpec& spec);

// A spec of `kind` for n entities of dimension d whose parameter count is as close to
// n*d/ratio as the kind allows. INVALID_ARGUMENT if the kind cannot reach `ratio` (memcom's
// per-entity weights cap it below d; qr's below sqrt(n)/2). ratio is ignored for full.
// With `clamp`, a ratio the kind cannot reach gives its most compressed spec instead of an
// error (memcom: m = 1; memcom_freq: m = 1, no dedicated rows; qr: m = sqrt(n)); callers
// report the ratio actually reached.
absl::StatusOr<TableSpec> SizeTable(const std::string& feature, TableKind kind, uint64_t n,
                                    uint32_t d, double ratio, bool clamp = false);

}  // namespace ranker

#endif  // RANKER_MODEL_TABLE_SIZING_H_
