// Head/tail pq rows: a frequency-aware memory budget for a full table (TableSpec.tail_pq_bits
// set; the tensors in snapshot.proto). The head_rows most popular entities keep pq codes of
// pq_subvectors x pq_bits, every other entity shorter codes of tail_pq_subvectors x
// tail_pq_bits, each group under a codebook of its own learned on its own rows, and one bit per
// entity says which group it is in. Popular items are most of what users see and what histories
// hold, so their rows are worth more bits (docs/frontier/frontier.md measures it against one
// code width). Rows decode to centroids exactly, like pq rows, so such a table embeds
// bit-identically to the float table of its decoded rows (table_rows.h HeadTailPqRows).
// Pure functions; deterministic for a seed.
#ifndef RANKER_MODEL_HEAD_TAIL_ROWS_H_
#define RANKER_MODEL_HEAD_TAIL_ROWS_H_

#include <cstdint>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/types/span.h"
#include "model/aligned_buffer.h"
#include "model/pq_rows.h"
#include "model/snapshot.h"

namespace ranker {

struct HeadTailOptions {
  PqOptions head, tail;        // each group's codes; the head's seed seeds both
  uint32_t head_percent = 20;  // 1..99: the head is round(n * percent / 100) entities
};

// Entities in the head of n at `head_percent`: round(n * head_percent / 100).
uint64_t HeadRowsOf(uint64_t n, uint32_t head_percent);

// Replaces the full float table's rows by head/tail codes, the head being the entities with the
// largest `popularity` (n values; ties to the lower index). FAILED_PRECONDITION, changing
// nothing, if the table is not full or its rows not float32, popularity is not n finite values,
// or as ConvertTableToPq.
absl::Status ConvertTableToHeadTailPq(const HeadTailOptions& options,
                                      absl::Span<const float> popularity, TableSpec* spec,
                                      TensorMap* tensors);

// FAILED_PRECONDITION unless `bits` (HeadBitsShape words) sets exactly spec.head_rows() bits,
// all below n, and head_rows fits the rank directory's uint32.
absl::Status CheckHeadBits(const TableSpec& spec, absl::Span<const uint64_t> bits);

// The rank directory TableTensors::head_rank reads: uint32 head entities before each block of
// kHeadRankBlock entities. REQUIRES: CheckHeadBits passed.
absl::StatusOr<AlignedBuffer> BuildHeadRank(const TableSpec& spec, absl::Span<const uint64_t> bits);

// The float rows ([n, d]) a head/tail table's tensors decode to. FAILED_PRECONDITION if the
// table has no head/tail rows or a tensor is missing or of the wrong dtype or shape.
absl::StatusOr<std::vector<float>> DecodeHeadTailTable(const TableSpec& spec,
                                                       const TensorMap& tensors);

}  // namespace ranker

#endif  // RANKER_MODEL_HEAD_TAIL_ROWS_H_
