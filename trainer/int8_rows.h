// Simulated int8 storage of embedding rows (issue 12, goal 4): every d-wide parameter row of a
// table is rounded to int8 levels with a per-row scale (max |x| / 127), and used as the floats
// those levels decode to. The serving path has no int8 dtype yet, so this measures the quality
// such a table would have; the bytes it would take are Int8TableBytes. Pure functions.
#ifndef RANKER_TRAINER_INT8_ROWS_H_
#define RANKER_TRAINER_INT8_ROWS_H_

#include <cstddef>
#include <cstdint>

#include "model/snapshot.h"

namespace ranker {

// Rounds each of the `rows` rows of `d` floats to q * scale with integer q in [-127, 127] and
// scale = max |x| / 127 of that row (a zero row stays zero). Each value moves by at most
// scale / 2.
void QuantizeRowsInt8(float* values, size_t rows, size_t d);

// Rounds every d-wide parameter tensor of `spec`'s table in `tensors` (per-entity weights and
// entity subsets are left as they are). FAILED_PRECONDITION if a tensor is missing.
absl::Status QuantizeTableInt8(const TableSpec& spec, TensorMap* tensors);

// Bytes of `spec`'s table with its d-wide rows stored as int8 plus a float scale per row, the
// other tensors as today (id maps not included).
uint64_t Int8TableBytes(const TableSpec& spec);

}  // namespace ranker

#endif  // RANKER_TRAINER_INT8_ROWS_H_
