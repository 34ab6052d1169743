// How the table kernels (table_forward.cc, table_dot.cc) read a table's d-wide parameter rows,
// whatever their storage (TableSpec.row_dtype): each kernel is compiled once per policy.
//   FloatRows  float32 rows
//   Int8Rows   int8 levels q with a float scale s per row; element k is float(q[k]) * s, exactly
//              the value the exporter rounded to (model/int8_rows.h), so a served int8 table
//              embeds bit-identically to the floats it was made from after rounding.
//   PqRows     product-quantisation codes (model/pq_rows.h): element k of a row is element
//              k mod s of centroid (j * 2^bits + code j) of the table's codebook, j = k / s for
//              sub-vectors of s = d / pq_subvectors floats; exactly the codebook's floats.
// A policy's Row is indexable by k like a float pointer.
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

// One pq row: its codes and the table's codebook.
struct PqRow {
  const uint8_t* codes;
  const float* codebook;
  uint32_t sub;   // floats per sub-vector
  uint32_t bits;  // 4 or 8

  // Sub-vector j's code.
  uint32_t Code(size_t j) const {
    return bits == 8 ? codes[j] : (codes[j >> 1] >> ((j & 1) * 4)) & 0xF;
  }
  // Sub-vector j's centroid: `sub` floats.
  const float* Centroid(size_t j) const { return codebook + ((j << bits) + Code(j)) * sub; }
  float operator[](size_t k) const { return Centroid(k / sub)[k % sub]; }
};

struct PqRows {
  using Row = PqRow;
  static constexpr DType kDType = snapshot::UINT8;
  static Row At(const TableTensors& t, size_t tensor, uint64_t row) {
    const uint32_t subvectors = t.spec->pq_subvectors(), bits = t.spec->pq_bits();
    return {t.codes(tensor) + row * (subvectors * bits / 8), t.codebooks[tensor],
            t.spec->d() / subvectors, bits};
  }
};

}  // namespace ranker

#endif  // RANKER_MODEL_TABLE_ROWS_H_
