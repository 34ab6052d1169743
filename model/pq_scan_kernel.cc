#include "model/pq_scan_kernel.h"

#include <bit>

#if defined(__x86_64__)
#include <immintrin.h>
#endif

namespace ranker {
namespace {

#if defined(__x86_64__)
#define RANKER_VBMI __attribute__((target("avx512f,avx512bw,avx512vbmi")))

// A block of 64 rows of M = 2^m codes is M registers, register i holding rows 64 / M * i ..
// in row-major order. Transposed so that register j holds code j of all 64 rows by m stages,
// stage k swapping bit k of the register number with bit k of the byte lane (two two-register
// permutes per pair of registers). Afterwards byte lane l holds row
// ((l mod M) << (6 - m)) | (l >> m).
struct TransposeIndices {
  alignas(64) uint8_t low[6][64];   // the pair's first register after stage k
  alignas(64) uint8_t high[6][64];  // and its second
};

constexpr TransposeIndices MakeTransposeIndices() {
  TransposeIndices indices{};
  for (int k = 0; k < 6; ++k) {
    const int bit = 1 << k;
    for (int lane = 0; lane < 64; ++lane) {
      const bool set = (lane & bit) != 0;
      indices.low[k][lane] = static_cast<uint8_t>(set ? 64 + (lane & ~bit) : lane);
      indices.high[k][lane] = static_cast<uint8_t>(set ? 64 + lane : (lane | bit));
    }
  }
  return indices;
}

constexpr TransposeIndices kTranspose = MakeTransposeIndices();

template <int kLogM>
constexpr uint32_t RowOfLane(uint32_t lane) {
  constexpr uint32_t kM = 1u << kLogM;
  return ((lane & (kM - 1)) << (6 - kLogM)) | (lane >> kLogM);
}

template <int kLogM>
RANKER_VBMI void ScanVbmi(const PqScanGroup& group, uint32_t group_index, const uint8_t* quantised,
                          uint64_t first, size_t count, uint32_t cut,
                          std::vector<PqScanCandidate>* out) {
  constexpr int kM = 1 << kLogM;
  if (cut > group.subvectors * 255) return;
  const __m512i low_bytes = _mm512_set1_epi16(0x00FF);
  const __m512i cut_words = _mm512_set1_epi16(static_cast<int16_t>(cut));
  __m512i low_index[kLogM > 0 ? kLogM : 1], high_index[kLogM > 0 ? kLogM : 1];
  for (int k = 0; k < kLogM; ++k) {
    low_index[k] = _mm512_load_si512(kTranspose.low[k]);
    high_index[k] = _mm512_load_si512(kTranspose.high[k]);
  }
  for (size_t block = 0; block < count / kPqScanBlockRows; ++block) {
    const uint64_t block_first = first + block * kPqScanBlockRows;
    const uint8_t* codes = group.codes + block_first * kM;
    // The first stage reads the registers from memory itself: a separate loop of loads into x
    // is a 2 KiB copy to the stack (GCC makes it a memmove call).
    __m512i x[kM];
    if constexpr (kLogM == 0) {
      x[0] = _mm512_loadu_si512(codes);
    } else {
      for (int i = 0; i < kM; i += 2) {
        const __m512i a = _mm512_loadu_si512(codes + 64 * i);
        const __m512i b = _mm512_loadu_si512(codes + 64 * (i + 1));
        x[i] = _mm512_permutex2var_epi8(a, low_index[0], b);
        x[i + 1] = _mm512_permutex2var_epi8(a, high_index[0], b);
      }
    }
    for (int k = 1; k < kLogM; ++k) {
      const int step = 1 << k;
      for (int i = 0; i < kM; ++i) {
        if ((i & step) != 0) continue;
        const __m512i a = x[i], b = x[i + step];
        x[i] = _mm512_permutex2var_epi8(a, low_index[k], b);
        x[i + step] = _mm512_permutex2var_epi8(a, high_index[k], b);
      }
    }
    // Byte lane l's sum: even lanes in `even`'s 16-bit lane l / 2, odd ones in `odd`'s.
    __m512i even = _mm512_setzero_si512(), odd = _mm512_setzero_si512();
    for (int j = 0; j < kM; ++j) {
      const uint8_t* table = quantised + j * kPqScanCodes;
      const __m512i low =
          _mm512_permutex2var_epi8(_mm512_loadu_si512(table), x[j], _mm512_loadu_si512(table + 64));
      const __m512i high = _mm512_permutex2var_epi8(_mm512_loadu_si512(table + 128), x[j],
                                                    _mm512_loadu_si512(table + 192));
      const __m512i levels = _mm512_mask_blend_epi8(_mm512_movepi8_mask(x[j]), low, high);
      even = _mm512_add_epi16(even, _mm512_and_si512(levels, low_bytes));
      odd = _mm512_add_epi16(odd, _mm512_srli_epi16(levels, 8));
    }
    const __mmask32 even_pass = _mm512_cmpge_epu16_mask(even, cut_words);
    const __mmask32 odd_pass = _mm512_cmpge_epu16_mask(odd, cut_words);
    if ((even_pass | odd_pass) == 0) continue;
    alignas(64) uint16_t even_sums[32], odd_sums[32];
    _mm512_store_si512(even_sums, even);
    _mm512_store_si512(odd_sums, odd);
    for (uint32_t m = even_pass; m != 0; m &= m - 1) {
      const uint32_t lane = std::countr_zero(m);
      out->push_back({block_first + RowOfLane<kLogM>(2 * lane), even_sums[lane], group_index});
    }
    for (uint32_t m = odd_pass; m != 0; m &= m - 1) {
      const uint32_t lane = std::countr_zero(m);
      out->push_back({block_first + RowOfLane<kLogM>(2 * lane + 1), odd_sums[lane], group_index});
    }
  }
}

PqScanFn SimdFor(uint32_t subvectors) {
  switch (subvectors) {
    case 1:
      return ScanVbmi<0>;
    case 2:
      return ScanVbmi<1>;
    case 4:
      return ScanVbmi<2>;
    case 8:
      return ScanVbmi<3>;
    case 16:
      return ScanVbmi<4>;
    case 32:
      return ScanVbmi<5>;
    case 64:
      return ScanVbmi<6>;
    default:
      return nullptr;
  }
}
#endif

bool HasVbmi() {
#if defined(__x86_64__)
  static const bool has = __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
                          __builtin_cpu_supports("avx512vbmi");
  return has;
#else
  return false;
#endif
}

}  // namespace

PqScanFn PqScanSimdFor(uint32_t subvectors) {
#if defined(__x86_64__)
  if (HasVbmi()) return SimdFor(subvectors);
#endif
  (void)subvectors;
  return nullptr;
}

uint32_t PqScanRowSum(const uint8_t* codes, uint32_t subvectors, const uint8_t* quantised) {
  uint32_t sum = 0;
  for (uint32_t j = 0; j < subvectors; ++j) sum += quantised[size_t{j} * kPqScanCodes + codes[j]];
  return sum;
}

void PqScanScalar(const PqScanGroup& group, uint32_t group_index, const uint8_t* quantised,
                  uint64_t first, size_t count, uint32_t cut, std::vector<PqScanCandidate>* out) {
  const uint32_t subvectors = group.subvectors;
  const uint8_t* codes = group.codes + first * subvectors;
  for (size_t r = 0; r < count; ++r) {
    const uint32_t sum = PqScanRowSum(codes + r * subvectors, subvectors, quantised);
    if (sum >= cut) out->push_back({first + r, sum, group_index});
  }
}

}  // namespace ranker
