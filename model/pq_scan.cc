#include "model/pq_scan.h"

#include <algorithm>
#include <bit>
#include <cmath>
#include <functional>
#include <limits>

#if defined(__x86_64__)
#include <immintrin.h>
#endif

namespace ranker {
namespace {

using Candidate = PqScanScratch::Candidate;

constexpr uint32_t kCodes = 256;
constexpr uint32_t kMaxSubvectors = 64;
constexpr size_t kBlockRows = 64;      // one SIMD block: a byte lane per row
constexpr size_t kChunkRows = 4096;    // rows scanned between compactions
// Candidates held before a compaction: a few times keep, so that the threshold rises early
// (measured on 1M items: 16384 held 19,000 candidates and cost 1.6 ms; 1024, 1.1 ms).
constexpr size_t kMinCapacity = 1024;

// What a group's byte sums say of its rows' exact scores: score within `error` of
// scale * sum + bias.
struct GroupBound {
  double scale = 1;
  double bias = 0;
  double error = 0;
  uint32_t max_sum = 0;
  // Smallest sum whose upper bound reaches `threshold` (conservatively one less).
  uint32_t Cut(double threshold) const {
    if (!(threshold > -std::numeric_limits<double>::infinity())) return 0;
    const double sum = std::ceil((threshold - bias - error) / scale) - 1;
    if (sum <= 0) return 0;
    return sum > max_sum ? max_sum + 1 : static_cast<uint32_t>(sum);
  }
  double Lower(uint32_t sum) const { return scale * sum + bias - error; }
  double Upper(uint32_t sum) const { return scale * sum + bias + error; }
};

// Quantises `group`'s lookup table into `quantised` (subvectors x 256 bytes). False if a value
// is not finite or too large for the float sums to stay finite.
bool Quantise(const PqScanGroup& group, uint8_t* quantised, GroupBound* bound) {
  const uint32_t subvectors = group.subvectors;
  float lows[kMaxSubvectors];
  double widest = 0, magnitude = 0, bias = 0;
  for (uint32_t j = 0; j < subvectors; ++j) {
    const float* row = group.lut + size_t{j} * kCodes;
    float low = row[0], high = row[0];
    for (uint32_t c = 0; c < kCodes; ++c) {
      if (!std::isfinite(row[c])) return false;
      low = std::min(low, row[c]);
      high = std::max(high, row[c]);
    }
    lows[j] = low;
    widest = std::max(widest, double{high} - double{low});
    magnitude += std::max(std::abs(double{low}), std::abs(double{high}));
    bias += low;
  }
  if (magnitude > 1e30) return false;
  const double scale = widest > 0 ? widest / 255 : 1;
  for (uint32_t j = 0; j < subvectors; ++j) {
    const float* row = group.lut + size_t{j} * kCodes;
    for (uint32_t c = 0; c < kCodes; ++c) {
      const double level = std::nearbyint((double{row[c]} - lows[j]) / scale);
      quantised[size_t{j} * kCodes + c] = static_cast<uint8_t>(std::clamp(level, 0.0, 255.0));
    }
  }
  bound->scale = scale;
  bound->bias = bias;
  // Rounding to a level: s / 2 per sub-vector (a little more for the division's rounding). The
  // exact score sums `subvectors` floats in float: at most (subvectors + 2) units of 2^-24 of
  // the sum of magnitudes; doubled, for the double arithmetic here.
  bound->error = 0.5 * subvectors * scale * (1 + 1e-9) +
                 (subvectors + 2) * 2 * std::ldexp(magnitude, -24);
  bound->max_sum = subvectors * 255;
  return true;
}

// Appends the rows of [first, first + count) of `group` whose sum is >= cut.
using ScanFn = void (*)(const PqScanGroup& group, uint32_t group_index, const uint8_t* quantised,
                        uint64_t first, size_t count, uint32_t cut, std::vector<Candidate>* out);

void ScanScalar(const PqScanGroup& group, uint32_t group_index, const uint8_t* quantised,
                uint64_t first, size_t count, uint32_t cut, std::vector<Candidate>* out) {
  const uint32_t subvectors = group.subvectors;
  const uint8_t* codes = group.codes + first * subvectors;
  for (size_t r = 0; r < count; ++r) {
    const uint32_t sum = PqScanRowSum(codes + r * subvectors, subvectors, quantised);
    if (sum >= cut) out->push_back({first + r, sum, group_index});
  }
}

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
                          std::vector<Candidate>* out) {
  constexpr int kM = 1 << kLogM;
  if (cut > group.subvectors * 255) return;
  const __m512i low_bytes = _mm512_set1_epi16(0x00FF);
  const __m512i cut_words = _mm512_set1_epi16(static_cast<int16_t>(cut));
  __m512i low_index[kLogM > 0 ? kLogM : 1], high_index[kLogM > 0 ? kLogM : 1];
  for (int k = 0; k < kLogM; ++k) {
    low_index[k] = _mm512_load_si512(kTranspose.low[k]);
    high_index[k] = _mm512_load_si512(kTranspose.high[k]);
  }
  for (size_t block = 0; block < count / kBlockRows; ++block) {
    const uint64_t block_first = first + block * kBlockRows;
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
      const uint8_t* table = quantised + j * kCodes;
      const __m512i low = _mm512_permutex2var_epi8(_mm512_loadu_si512(table), x[j],
                                                   _mm512_loadu_si512(table + 64));
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

ScanFn SimdScanFor(uint32_t subvectors) {
  if (!PqScanHasSimd()) return nullptr;
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
#else
ScanFn SimdScanFor(uint32_t) { return nullptr; }
#endif

// Rows [first, first + count) of `group`: whole blocks through the SIMD kernel where there is
// one, the rest through the scalar loop.
void Scan(const PqScanGroup& group, uint32_t group_index, const uint8_t* quantised,
          uint64_t first, size_t count, uint32_t cut, std::vector<Candidate>* out) {
  size_t done = 0;
  if (const ScanFn simd = SimdScanFor(group.subvectors); simd != nullptr) {
    done = count / kBlockRows * kBlockRows;
    simd(group, group_index, quantised, first, done, cut, out);
  }
  ScanScalar(group, group_index, quantised, first + done, count - done, cut, out);
}

// Raises *threshold to the keep-th best lower bound among the candidates (never lowers it),
// then drops the candidates whose upper bound is below it.
void Compact(const GroupBound* bounds, size_t keep, PqScanScratch* scratch, double* threshold) {
  std::vector<Candidate>& candidates = scratch->candidates;
  if (candidates.size() > keep) {
    std::vector<float>& lower = scratch->lower;
    lower.resize(candidates.size());
    for (size_t i = 0; i < candidates.size(); ++i) {
      // Rounded down to a float, so still a lower bound.
      const double bound = bounds[candidates[i].group].Lower(candidates[i].sum);
      float rounded = static_cast<float>(bound);
      if (rounded > bound) rounded = std::nextafter(rounded, -std::numeric_limits<float>::max());
      lower[i] = rounded;
    }
    std::nth_element(lower.begin(), lower.begin() + static_cast<ptrdiff_t>(keep - 1), lower.end(),
                     std::greater<float>());
    *threshold = std::max(*threshold, double{lower[keep - 1]});
  }
  const double cut = *threshold;
  std::erase_if(candidates,
                [&](const Candidate& c) { return bounds[c.group].Upper(c.sum) < cut; });
}

}  // namespace

uint32_t PqScanRowSum(const uint8_t* codes, uint32_t subvectors, const uint8_t* quantised) {
  uint32_t sum = 0;
  for (uint32_t j = 0; j < subvectors; ++j) sum += quantised[size_t{j} * kCodes + codes[j]];
  return sum;
}

bool PqScanHasSimd() {
#if defined(__x86_64__)
  static const bool has = __builtin_cpu_supports("avx512f") &&
                          __builtin_cpu_supports("avx512bw") &&
                          __builtin_cpu_supports("avx512vbmi");
  return has;
#else
  return false;
#endif
}

void PqScanSums(const PqScanGroup& group, const uint8_t* quantised, uint64_t first, size_t count,
                uint32_t* sums) {
  std::vector<Candidate> all;
  all.reserve(count);
  Scan(group, 0, quantised, first, count, 0, &all);
  for (const Candidate& c : all) sums[c.row - first] = c.sum;
}

bool PqScanCandidates(const PqScanGroup* groups, size_t group_count, size_t keep,
                      PqScanScratch* scratch, std::vector<uint64_t>* rows) {
  GroupBound bounds[kMaxPqScanGroups];
  size_t table_bytes = 0;
  for (size_t g = 0; g < group_count; ++g) {
    if (groups[g].subvectors == 0 || groups[g].subvectors > kMaxSubvectors) return false;
    if (groups[g].rows > std::numeric_limits<uint32_t>::max()) return false;
    table_bytes += size_t{groups[g].subvectors} * kCodes;
  }
  scratch->quantised.resize(table_bytes);
  size_t offset = 0;
  for (size_t g = 0; g < group_count; ++g) {
    if (!Quantise(groups[g], scratch->quantised.data() + offset, &bounds[g])) return false;
    offset += size_t{groups[g].subvectors} * kCodes;
  }
  std::vector<Candidate>& candidates = scratch->candidates;
  candidates.clear();
  const size_t capacity = std::max(4 * keep, kMinCapacity);
  double threshold = -std::numeric_limits<double>::infinity();
  offset = 0;
  for (size_t g = 0; g < group_count; ++g) {
    const uint8_t* quantised = scratch->quantised.data() + offset;
    offset += size_t{groups[g].subvectors} * kCodes;
    for (uint64_t first = 0; first < groups[g].rows; first += kChunkRows) {
      const size_t count = static_cast<size_t>(std::min<uint64_t>(kChunkRows, groups[g].rows - first));
      Scan(groups[g], static_cast<uint32_t>(g), quantised, first, count, bounds[g].Cut(threshold),
           &candidates);
      // The first threshold as soon as there is one, then whenever the candidates fill up.
      const bool first_threshold =
          threshold == -std::numeric_limits<double>::infinity() && candidates.size() > keep;
      if (first_threshold || candidates.size() >= capacity) {
        Compact(bounds, keep, scratch, &threshold);
      }
    }
  }
  Compact(bounds, keep, scratch, &threshold);
  for (size_t g = 0; g < group_count; ++g) rows[g].clear();
  for (const Candidate& c : candidates) rows[c.group].push_back(c.row);
  for (size_t g = 0; g < group_count; ++g) std::sort(rows[g].begin(), rows[g].end());
  return true;
}

}  // namespace ranker
