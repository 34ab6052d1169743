// Sizes embedding tables for a target compression ratio, where ratio = parameters of a full
// n x d table / parameters of the compressed table (the paper's "input embedding size").
#ifndef RANKER_MODEL_TABLE_SIZING_H_
#define RANKER_MODEL_TABLE_SIZING_H_

#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "model/snapshot.h"

namespace ranker {

// "full", "hash", "qr", "memcom" <-> TableKind.
absl::StatusOr<TableKind> ParseTableKind(absl::string_view name);
std::string TableKindName(TableKind kind);
std::string HashName(const TableSpec& spec);

// Floats a table of `spec` holds.
uint64_t TableParameters(const TableSpec& spec);

// A spec of `kind` for n entities of dimension d whose parameter count is as close to
// n*d/ratio as the kind allows. INVALID_ARGUMENT if the kind cannot reach `ratio` (memcom's
// per-entity weights cap it below d; qr's below sqrt(n)/2). ratio is ignored for full.
// With `clamp`, a ratio the kind cannot reach gives its most compressed spec instead of an
// error (memcom: m = 1; qr: m = sqrt(n)); callers report the ratio actually reached.
absl::StatusOr<TableSpec> SizeTable(const std::string& feature, TableKind kind, uint64_t n,
                                    uint32_t d, double ratio, bool clamp = false);

}  // namespace ranker

#endif  // RANKER_MODEL_TABLE_SIZING_H_
