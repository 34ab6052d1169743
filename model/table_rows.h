// How the table kernels (table_forward.cc, table_dot.cc) read a table's d-wide parameter rows,
// whatever their storage (TableSpec.row_dtype): each kernel is compiled once per policy.
//   FloatRows  float32 rows
//   Int8Rows   int8 levels q with a float scale s per row; element k is float(q[k]) * s, exactly
//              the value the exporter rounded to (model/int8_rows.h), so a served int8 table
//              embeds bit-identically to the floats it was made from after rounding.
//   PqRows     product-quantisation codes (model/pq_rows.h): element k of a row is element
//              k mod s of centroid (j * 2^bits + code j) of the table's codebook, j = k / s for
//              sub-vectors of s = d / pq_subvectors floats; exactly the codebook's floats.
//   HeadTailPqRows  a full table's head/tail pq codes (model/head_tail_rows.h): a PqRow of the
//              head's or the tail's codes and codebook, by the entity's head bit.
// A policy's Row is indexable by k like a float pointer.
#ifndef RANKER_MODEL_TABLE_ROWS_H_
#define RANKER_MODEL_TABLE_ROWS_H_

#include <bit>
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

// Entities per entry of a head/tail table's rank directory (TableTensors::head_rank): eight
// words of head bits, so the directory costs 1/128 byte per entity.
inline constexpr uint64_t kHeadRankBlock = 512;

// Head entities before entity i of a head/tail table.
inline uint64_t HeadBefore(const TableTensors& t, uint64_t i) {
  const uint64_t word = i / 64;
  uint64_t count = t.head_rank[i / kHeadRankBlock];
  for (uint64_t w = word & ~uint64_t{7}; w < word; ++w) count += std::popcount(t.head_bits[w]);
  return count + std::popcount(t.head_bits[word] & ((uint64_t{1} << (i % 64)) - 1));
}

inline bool InHead(const TableTensors& t, uint64_t i) {
  return (t.head_bits[i / 64] >> (i % 64)) & 1;
}

struct HeadTailPqRows {
  using Row = PqRow;
  static constexpr DType kDType = snapshot::UINT8;
  static Row At(const TableTensors& t, size_t tensor, uint64_t row) {
    const TableSpec& spec = *t.spec;
    const uint64_t head = HeadBefore(t, row);
    if (InHead(t, row)) {
      const uint32_t subvectors = spec.pq_subvectors(), bits = spec.pq_bits();
      return {t.codes(tensor) + head * (subvectors * bits / 8), t.codebooks[tensor],
              spec.d() / subvectors, bits};
    }
    const uint32_t subvectors = spec.tail_pq_subvectors(), bits = spec.tail_pq_bits();
    return {t.tail_codes + (row - head) * (subvectors * bits / 8), t.tail_codebook,
            spec.d() / subvectors, bits};
  }
};

}  // namespace ranker

#endif  // RANKER_MODEL_TABLE_ROWS_H_
