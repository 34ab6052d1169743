#include "model/finite_check.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>

namespace ranker {

// NaN and infinities have every exponent bit set, so the largest magnitude (as bits) of a block
// says it for the whole block. A branch-free max over fixed blocks vectorises (this file is
// built with -O3); a scalar isfinite loop with an early exit ran at ~2 GB/s and took a third of
// loading a model (measured with perf).
bool AllFinite(absl::Span<const float> values) {
  constexpr size_t kBlock = 4096;
  const float* data = values.data();  // Span's checked operator[] would stop vectorisation
  const size_t whole = values.size() - values.size() % kBlock;
  for (size_t begin = 0; begin < whole; begin += kBlock) {
    uint32_t largest = 0;
    for (size_t i = begin; i < begin + kBlock; ++i) {
      uint32_t bits;
      std::memcpy(&bits, data + i, sizeof bits);
      largest = std::max(largest, bits & 0x7fffffffu);
    }
    if (largest >= 0x7f800000u) return false;
  }
  for (size_t i = whole; i < values.size(); ++i) {
    if (!std::isfinite(data[i])) return false;
  }
  return true;
}

}  // namespace ranker
