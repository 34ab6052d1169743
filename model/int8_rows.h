// Int8 rows (TableSpec.row_dtype = INT8): every d-wide parameter row of a table is stored as
// levels q in [-127, 127] with one float scale s = max |x| / 127 per row (a zero row: s = 0),
// and is worth float(q) * s (table_rows.h). Each value moves by at most s / 2. Per-entity
// weights and id tensors are not touched. About 4x smaller rows, composable with every kind.
// Pure functions.
#ifndef RANKER_MODEL_INT8_ROWS_H_
#define RANKER_MODEL_INT8_ROWS_H_

#include <cstddef>
#include <cstdint>

#include "absl/status/status.h"
#include "model/snapshot.h"

namespace ranker {

// Rounds one row of d finite floats: writes its levels and returns its scale (0 for a row whose
// largest |x| / 127 is 0 in float: its levels are 0).
float QuantizeRowInt8(const float* row, size_t d, int8_t* levels);

// Replaces each float row tensor of `spec`'s table in `tensors` by its int8 levels and a
// "<part>_scale" tensor, and sets spec->row_dtype to INT8. FAILED_PRECONDITION, changing
// nothing, if the table already has int8 rows, a row tensor is missing, not FLOAT32 of the
// layout's shape or not finite, or a scale tensor exists already.
absl::Status ConvertTableToInt8(TableSpec* spec, TensorMap* tensors);

}  // namespace ranker

#endif  // RANKER_MODEL_INT8_ROWS_H_
