// How the table kernels (table_forward.cc, table_dot.cc) read a table's d-wide parameter rows,
// whatever their storage (TableSpec.row_dtype): each kernel is compiled once per policy.
//   FloatRows  float32 rows
//   Int8Rows   int8 levels q with a float scale s per row; element k is float(q[k]) * s, exactly
//              the value the exporter rounded to (model/int8_rows.h), so a served int8 table
//              embeds bit-identically to the floats it was made from after rounding.
// A policy's Row is indexable by k like a float pointer; Gemv is its batched row . v.
#ifndef RANKER_MODEL_TABLE_ROWS_H_
#define RANKER_MODEL_TABLE_ROWS_H_

#include <cstddef>
#include <cstdint>

#include "model/table_forward.h"

namespace ranker {

struct FloatRows {
  using Row = const float*;
  static constexpr DType kDType = snapshot::FLOAT32;
  static Row At(const TableTensors& t, size_t tensor, uint64_t row) {
    return t.floats(tensor) + row * t.spec->d();
  }
};

struct Int8Row {
  const int8_t* levels;
  float scale;
  float operator[](size_t k) const { return static_cast<float>(levels[k]) * scale; }
};

struct Int8Rows {
  using Row = Int8Row;
  static constexpr DType kDType = snapshot::INT8;
  static Row At(const TableTensors& t, size_t tensor, uint64_t row) {
    return {t.int8s(tensor) + row * t.spec->d(), t.scales[tensor][row]};
  }
};

}  // namespace ranker

#endif  // RANKER_MODEL_TABLE_ROWS_H_
