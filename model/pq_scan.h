// Stage 1's shortcut over 8-bit pq codes: instead of every row's exact score (one float lookup
// table, pq_subvectors loads and adds per row: table_dot.cc), every row gets an estimate from
// the same lookup table quantised to bytes, summed 64 rows at a time in SIMD registers, with a
// proven bound on how far the estimate can be from the exact score. Only the rows whose upper
// bound reaches the keep-th best lower bound can be among the keep best exact scores; the
// caller scores just those exactly, and so keeps exactly the items the full scan keeps (ties
// included: a row tied with the keep-th best exact score passes too).
//
// The bound, per group of rows sharing a codebook (M sub-vectors, float table lut[j][c]):
// bytes q[j][c] = round((lut[j][c] - min_c lut[j][c]) / s), s = the widest sub-vector's range
// / 255, so lut[j][c] = min_j + s q[j][c] within s / 2; a row's exact score (its floats summed
// in order) is within E = M s / 2 + the float sum's rounding of s * sum_j q + sum_j min_j.
//
// The SIMD sums use AVX-512 VBMI (a 256-entry byte table is two two-register permutes),
// chosen at run time; other machines get the same sums from a scalar loop.
#ifndef RANKER_MODEL_PQ_SCAN_H_
#define RANKER_MODEL_PQ_SCAN_H_

#include <cstddef>
#include <cstdint>
#include <vector>

#include "model/aligned_buffer.h"

namespace ranker {

// Rows of 8-bit pq codes sharing one codebook.
struct PqScanGroup {
  const uint8_t* codes = nullptr;  // rows x subvectors bytes, row-major
  uint64_t rows = 0;
  uint32_t subvectors = 0;
  const float* lut = nullptr;  // subvectors x 256 floats: centroid (j, c) . user part j
};

inline constexpr size_t kMaxPqScanGroups = 2;

// Per-thread scan state, reused across requests (grows to the largest request seen).
struct PqScanScratch {
  AlignedVector<uint8_t> quantised;  // every group's byte table, 256 per sub-vector
  struct Candidate {
    uint64_t row;
    uint32_t sum;  // the row's byte-table sum
    uint32_t group;
  };
  std::vector<Candidate> candidates;
  std::vector<float> lower;                   // compaction's scratch
  std::vector<uint64_t> rows[kMaxPqScanGroups];              // a caller's per-group rows
};

// Fills rows[g] (cleared first) with the increasing rows of groups[g] whose exact score can be
// among the `keep` best exact scores over every row of every group. False (rows untouched) if
// a lookup table holds a value that is not finite, or a group has more than 2^32 rows or
// sub-vectors outside 1..64: score every row exactly then.
// REQUIRES: group_count <= kMaxPqScanGroups, keep >= 1.
bool PqScanCandidates(const PqScanGroup* groups, size_t group_count, size_t keep,
                      PqScanScratch* scratch, std::vector<uint64_t>* rows);

// The byte-table sums of `count` rows of `group` from row `first` (REQUIRES: 64 | first),
// written to sums[0 .. count): the SIMD kernel where the machine has one, else the scalar
// loop. `quantised` is the group's byte table (subvectors x 256). Exposed for the tests, which
// check the kernel against PqScanRowSum.
void PqScanSums(const PqScanGroup& group, const uint8_t* quantised, uint64_t first, size_t count,
                uint32_t* sums);
// The scalar reference: sum over j of quantised[j * 256 + code j].
uint32_t PqScanRowSum(const uint8_t* codes, uint32_t subvectors, const uint8_t* quantised);
// True if PqScanSums runs the SIMD kernel on this machine.
bool PqScanHasSimd();

}  // namespace ranker

#endif  // RANKER_MODEL_PQ_SCAN_H_
