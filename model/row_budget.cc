#include "model/row_budget.h"

#include <cmath>
#include <tuple>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "model/head_tail_rows.h"
#include "model/table_rows.h"

namespace ranker {
namespace {

RowBudget Pair(uint64_t n, uint32_t d, const RowStorage& input, const RowStorage& output) {
  RowBudget budget{input, output, FullTableBytes(n, d, input) + FullTableBytes(n, d, output), 0};
  budget.whole_ratio =
      2.0 * static_cast<double>(n) * d * sizeof(float) / static_cast<double>(budget.bytes);
  return budget;
}

bool HasFourBitCodes(const RowBudget& budget) {
  return budget.input.pq_bits == 4 || budget.output.pq_bits == 4;
}

// The order of preference: no 4-bit codes, then more bits per item, then more bytes (a finer
// codebook), then more of them on the output table.
auto PreferenceKey(uint64_t n, uint32_t d, const RowBudget& budget) {
  return std::make_tuple(!HasFourBitCodes(budget),
                         RowBits(d, budget.input) + RowBits(d, budget.output), budget.bytes,
                         FullTableBytes(n, d, budget.output));
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
  if (IsHeadTail(storage)) {
    const uint64_t head = HeadRowsOf(n, storage.head_percent);
    RowStorage tail = storage;
    tail.pq_subvectors = storage.tail_pq_subvectors;
    tail.pq_bits = storage.tail_pq_bits;
    tail.tail_pq_bits = 0;
    RowStorage head_storage = tail;
    head_storage.pq_subvectors = storage.pq_subvectors;
    head_storage.pq_bits = storage.pq_bits;
    // Both groups' codes and codebooks, a bit per item, and the rank directory built at load.
    return FullTableBytes(head, d, head_storage) + FullTableBytes(n - head, d, tail) +
           (n / 64 + (n % 64 != 0 ? 1 : 0)) * sizeof(uint64_t) +
           (n / kHeadRankBlock + 1) * sizeof(uint32_t);
  }
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

std::vector<RowBudget> BudgetCandidates(uint64_t n, uint32_t d) {
  std::vector<RowBudget> candidates;
  for (DType dtype : {snapshot::FLOAT32, snapshot::INT8}) {
    candidates.push_back(Pair(n, d, {dtype, 0, 0}, {dtype, 0, 0}));
  }
  for (uint32_t bits : {8u, 4u}) {
    for (uint32_t subvectors = 1; subvectors <= d; subvectors *= 2) {
      if (d % subvectors != 0 || (bits == 4 && subvectors % 2 != 0)) continue;
      if ((uint64_t{subvectors} << bits) > kMaxPqCentroids) continue;
      const RowStorage pq{snapshot::UINT8, subvectors, bits};
      candidates.push_back(Pair(n, d, pq, pq));
      const RowStorage wider{snapshot::UINT8, 2 * subvectors, bits};
      if (d % wider.pq_subvectors == 0 &&
          (uint64_t{wider.pq_subvectors} << bits) <= kMaxPqCentroids) {
        candidates.push_back(Pair(n, d, pq, wider));
      }
    }
  }
  return candidates;
}

std::vector<RowStorage> HeadTailStorages() {
  std::vector<RowStorage> storages;
  for (const char* name :
       {"head20:pq32x8+pq8x8", "head30:pq32x8+pq4x8", "head20:pq32x8+pq4x8", "head15:pq32x8+pq4x4",
        "head10:pq32x8+pq4x4", "head5:pq32x8+pq2x4", "head30:pq32x4+pq16x4", "head20:pq32x4+pq8x4",
        "head10:pq32x4+pq4x4", "head5:pq32x4+pq2x4"}) {
    storages.push_back(*ParseRowStorage(name));
  }
  return storages;
}

std::vector<RowBudget> HeadTailCandidates(uint64_t n, uint32_t d) {
  std::vector<RowBudget> candidates;
  if (d % 32 != 0) return candidates;  // every storage above has 32 head sub-vectors
  for (const RowStorage& storage : HeadTailStorages()) {
    candidates.push_back(Pair(n, d, storage, storage));
  }
  return candidates;
}

namespace {

// Head/tail rule: 8-bit head codes if any reach the ratio, then the largest head, then the
// most bytes.
const RowBudget* ChooseHeadTail(const std::vector<RowBudget>& candidates, double ratio) {
  const RowBudget* best = nullptr;
  for (const RowBudget& candidate : candidates) {
    if (candidate.whole_ratio + 1e-9 < ratio) continue;
    const auto key = [](const RowBudget& b) {
      return std::make_tuple(b.input.pq_bits, b.input.head_percent, b.bytes);
    };
    if (best == nullptr || key(candidate) > key(*best)) best = &candidate;
  }
  return best;
}

}  // namespace

absl::StatusOr<RowBudget> RecommendRowBudget(uint64_t n, uint32_t d, double ratio) {
  if (n == 0 || d == 0 || !(ratio >= 1)) {
    return absl::InvalidArgumentError(
        absl::StrCat("a budget needs n, d >= 1 and a ratio >= 1 (got ratio ", ratio, ")"));
  }
  if (ratio >= kHeadTailFromRatio) {
    const std::vector<RowBudget> head_tail = HeadTailCandidates(n, d);
    if (const RowBudget* best = ChooseHeadTail(head_tail, ratio)) return *best;
  }
  const RowBudget* best = nullptr;
  double largest = 0;
  const std::vector<RowBudget> candidates = BudgetCandidates(n, d);
  for (const RowBudget& candidate : HeadTailCandidates(n, d)) {
    largest = std::max(largest, candidate.whole_ratio);
  }
  for (const RowBudget& candidate : candidates) {
    largest = std::max(largest, candidate.whole_ratio);
    if (candidate.whole_ratio + 1e-9 < ratio) continue;
    if (best == nullptr || PreferenceKey(n, d, candidate) > PreferenceKey(n, d, *best)) {
      best = &candidate;
    }
  }
  if (best == nullptr) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "no row storage makes %d items of d=%d %gx smaller (at most %.1fx: codebooks cost "
        "too much for so few items)",
        n, d, ratio, largest));
  }
  return *best;
}

std::string DescribeRowBudget(const RowBudget& budget) {
  return absl::StrFormat("input %s, output %s (%.1fx, %d bytes)", RowStorageName(budget.input),
                         RowStorageName(budget.output), budget.whole_ratio, budget.bytes);
}

}  // namespace ranker
