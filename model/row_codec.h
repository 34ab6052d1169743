// Encodes a trained float table's d-wide rows into a row storage (table_layout.h RowStorage):
// float32 leaves the table as it is, int8 rounds each row with its own scale (int8_rows.h), pq
// learns a codebook by k-means and stores codes (pq_rows.h), head/tail pq gives the most popular
// items (by the "popularity" tensor) longer codes than the rest (head_tail_rows.h). The one entry
// point the trainer, the experiments and the demo use, so every producer encodes a storage the same
// way.
#ifndef RANKER_MODEL_ROW_CODEC_H_
#define RANKER_MODEL_ROW_CODEC_H_

#include <cstdint>

#include "absl/status/status.h"
#include "model/snapshot.h"
#include "model/table_layout.h"

namespace ranker {

// `seed` seeds pq's k-means. FAILED_PRECONDITION (the table unchanged) as the conversions
// report it: rows already encoded, missing or non-finite, pq options that do not fit d, or
// head/tail rows for a table that is not full or a model without popularity.
absl::Status EncodeTableRows(const RowStorage& storage, uint64_t seed, TableSpec* spec,
                             TensorMap* tensors);

}  // namespace ranker

#endif  // RANKER_MODEL_ROW_CODEC_H_
