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
// The sums: pq_scan_kernel.h.
#ifndef RANKER_MODEL_PQ_SCAN_H_
#define RANKER_MODEL_PQ_SCAN_H_

#include <cstddef>
#include <cstdint>
#include <vector>

#include "model/aligned_buffer.h"
#include "model/pq_scan_kernel.h"

namespace ranker {

inline constexpr size_t kMaxPqScanGroups = 2;

// Per-thread scan state, reused across requests. Sized for a few times keep at the first
// request; it grows (allocates) only for a request whose candidates outnumber every earlier
// one's.
struct PqScanScratch {
  AlignedVector<uint8_t> quantised;  // every group's byte table, 256 per sub-vector
  std::vector<PqScanCandidate> candidates;
  std::vector<float> lower;                      // compaction's scratch
  std::vector<uint64_t> rows[kMaxPqScanGroups];  // a caller's per-group rows
};

// Fills rows[g] (cleared first) with the increasing rows of groups[g] whose exact score can be
// among the `keep` best exact scores over every row of every group. False (rows unspecified):
// score every row exactly instead. That is when keep is 0, there are more than
// kMaxPqScanGroups groups, a group has sub-vectors outside 1..64, a lookup table holds a value
// that is not finite, or the bound is too loose to prune: more than a sixteenth of the rows
// survive (a table far from zero, many ties), where the exact scan costs less.
bool PqScanCandidates(const PqScanGroup* groups, size_t group_count, size_t keep,
                      PqScanScratch* scratch, std::vector<uint64_t>* rows);

// True if rows of `subvectors` codes get the SIMD kernel on this machine (a power of two up to
// 64, AVX-512 VBMI). Without it the scan sums each row in a scalar loop, no faster than the
// exact scan it would replace, so callers take the exact scan then.
inline bool PqScanHasSimdFor(uint32_t subvectors) { return PqScanSimdFor(subvectors) != nullptr; }

}  // namespace ranker

#endif  // RANKER_MODEL_PQ_SCAN_H_
