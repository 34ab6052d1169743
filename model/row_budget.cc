#include "model/row_budget.h"

#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace ranker {
namespace {

// Every storage a full table of width d can take.
std::vector<RowStorage> Candidates(uint32_t d) {
  std::vector<RowStorage> storages = {{snapshot::FLOAT32, 0, 0}, {snapshot::INT8, 0, 0}};
  for (uint32_t subvectors = 1; subvectors <= d; ++subvectors) {
    if (d % subvectors != 0) continue;
    for (uint32_t bits : {8u, 4u}) {
      if (bits == 4 && subvectors % 2 != 0) continue;
      if ((uint64_t{subvectors} << bits) > kMaxPqCentroids) continue;
      storages.push_back({snapshot::UINT8, subvectors, bits});
    }
  }
  return storages;
}

}  // namespace

uint64_t RowBits(uint32_t d, const RowStorage& storage) {
  switch (storage.dtype) {
    case snapshot::INT8:
      return 8 * (uint64_t{d} + sizeof(float));
    case snapshot::UINT8:
      return uint64_t{storage.pq_subvectors} * storage.pq_bits;
    default:
      return 32 * uint64_t{d};
  }
}

uint64_t FullTableBytes(uint64_t n, uint32_t d, const RowStorage& storage) {
  switch (storage.dtype) {
    case snapshot::INT8:
      return n * (d + sizeof(float));
    case snapshot::UINT8:
      return n * storage.pq_subvectors * storage.pq_bits / 8 +
             (uint64_t{1} << storage.pq_bits) * d * sizeof(float);
    default:
      return n * d * sizeof(float);
  }
}

absl::StatusOr<RowBudget> RecommendRowBudget(uint64_t n, uint32_t d, double ratio) {
  if (n == 0 || d == 0 || !(ratio >= 1)) {
    return absl::InvalidArgumentError(
        absl::StrCat("a budget needs n, d >= 1 and a ratio >= 1 (got ratio ", ratio, ")"));
  }
  const double full = 2.0 * static_cast<double>(n) * d * sizeof(float);
  const std::vector<RowStorage> storages = Candidates(d);
  RowBudget best;
  bool found = false;
  double smallest = full;
  for (const RowStorage& input : storages) {
    for (const RowStorage& output : storages) {
      const uint64_t in_bytes = FullTableBytes(n, d, input);
      const uint64_t out_bytes = FullTableBytes(n, d, output);
      const uint64_t bytes = in_bytes + out_bytes;
      smallest = std::min(smallest, static_cast<double>(bytes));
      if (full / static_cast<double>(bytes) + 1e-9 < ratio) continue;
      const uint64_t bits = RowBits(d, input) + RowBits(d, output);
      const uint64_t best_bits = found ? RowBits(d, best.input) + RowBits(d, best.output) : 0;
      const bool better = !found || bits > best_bits ||
                          (bits == best_bits &&
                           (bytes > best.bytes || (bytes == best.bytes &&
                                                   out_bytes > FullTableBytes(n, d, best.output))));
      if (!better) continue;
      found = true;
      best = {input, output, bytes, full / static_cast<double>(bytes)};
    }
  }
  if (!found) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "no row storage makes %d items of d=%d %gx smaller (at most %.1fx: codebooks cost "
        "too much for so few items)",
        n, d, ratio, full / smallest));
  }
  return best;
}

std::string DescribeRowBudget(const RowBudget& budget) {
  return absl::StrFormat("input %s, output %s (%.1fx, %d bytes)", RowStorageName(budget.input),
                         RowStorageName(budget.output), budget.whole_ratio, budget.bytes);
}

}  // namespace ranker
