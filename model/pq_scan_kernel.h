// The row sums under pq_scan.h's bounded scan: for rows of 8-bit pq codes and a byte lookup
// table (256 bytes per sub-vector), each row's sum over its sub-vectors of table[j][code j],
// kept where it reaches a cut. The SIMD kernel (AVX-512 VBMI, chosen at run time) and the
// scalar loop give the same sums; pq_scan.cc decides what the sums mean.
#ifndef RANKER_MODEL_PQ_SCAN_KERNEL_H_
#define RANKER_MODEL_PQ_SCAN_KERNEL_H_

#include <cstddef>
#include <cstdint>
#include <vector>

namespace ranker {

inline constexpr uint32_t kPqScanCodes = 256;   // table bytes per sub-vector (8-bit codes)
inline constexpr size_t kPqScanBlockRows = 64;  // the SIMD kernel's block: a byte lane per row

// Rows of 8-bit pq codes sharing one codebook.
struct PqScanGroup {
  const uint8_t* codes = nullptr;  // rows x subvectors bytes, row-major
  uint64_t rows = 0;
  uint32_t subvectors = 0;
  const float* lut = nullptr;  // subvectors x 256 floats: centroid (j, c) . user part j
};

struct PqScanCandidate {
  uint64_t row;
  uint32_t sum;  // the row's byte-table sum
  uint32_t group;
};

// Appends {row, sum, group_index} to `out` for each row of [first, first + count) of `group`
// whose sum over `quantised` (subvectors x 256 bytes) is >= cut, in no particular order.
using PqScanFn = void (*)(const PqScanGroup& group, uint32_t group_index, const uint8_t* quantised,
                          uint64_t first, size_t count, uint32_t cut,
                          std::vector<PqScanCandidate>* out);

// The SIMD kernel for rows of `subvectors` codes (a power of two up to 64) on this machine, or
// nullptr. REQUIRES of its calls: kPqScanBlockRows divides count.
PqScanFn PqScanSimdFor(uint32_t subvectors);
// The scalar loop: any count, any sub-vector count.
void PqScanScalar(const PqScanGroup& group, uint32_t group_index, const uint8_t* quantised,
                  uint64_t first, size_t count, uint32_t cut, std::vector<PqScanCandidate>* out);
// The scalar reference for one row: sum over j of quantised[j * 256 + codes[j]].
uint32_t PqScanRowSum(const uint8_t* codes, uint32_t subvectors, const uint8_t* quantised);

}  // namespace ranker

#endif  // RANKER_MODEL_PQ_SCAN_KERNEL_H_
