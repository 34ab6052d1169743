// What to serve for a memory budget: the row storages of a history model's two full item tables
// (n items of d) for a whole model at least `ratio` times smaller than the full float32 tables
// (ratio = 2 n d 4 bytes / the two tables' resident bytes, codebooks, scales, head bits and
// the head/tail rank directory counted). The rule, from the frontier
// (docs/frontier/frontier.md), over the shapes it measured:
// - From kHeadTailFromRatio (16x) on, head/tail pq (model/head_tail_rows.h) on both tables,
//   from HeadTailStorages(): it beat every single code width at 16x and beyond on all three
//   sets. 8-bit head codes where one reaches the ratio (4-bit ones only where 256-centroid
//   codebooks cost too much: small catalogues), then the largest head (the popular items'
//   codes mattered more than the tail's), then the most bytes.
// - Below that, or where no head/tail storage reaches the ratio: both tables float32, int8,
//   pq<M>x<bits>, or pq<M>x<bits> in and pq<2M>x<bits> out (M a power of two); no 4-bit codes
//   if possible, then the most bits per item, then the most bytes, then more of them on the
//   output table.
// Pure functions.
#ifndef RANKER_MODEL_ROW_BUDGET_H_
#define RANKER_MODEL_ROW_BUDGET_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "model/table_layout.h"

namespace ranker {

struct RowBudget {
  RowStorage input, output;
  uint64_t bytes = 0;      // both tables, as stored
  double whole_ratio = 0;  // 2 n d 4 / bytes
};

// INVALID_ARGUMENT if ratio < 1, n or d is 0, or no pair of storages reaches the ratio (the
// message says the largest ratio there is: small catalogues cannot amortise codebooks).
absl::StatusOr<RowBudget> RecommendRowBudget(uint64_t n, uint32_t d, double ratio);

inline constexpr double kHeadTailFromRatio = 16;

// Every pair of single-width storages the rule chooses from, for n items of d.
std::vector<RowBudget> BudgetCandidates(uint64_t n, uint32_t d);
// The head/tail storages the frontier measures and the rule chooses from ("head20:pq32x8+
// pq8x8", ...), and their budgets on both tables (none unless 32 divides d).
std::vector<RowStorage> HeadTailStorages();
std::vector<RowBudget> HeadTailCandidates(uint64_t n, uint32_t d);

// Bits one row of d keeps under `storage`: 32 d, 8 d + 32 (int8 and its scale), or M x bits.
uint64_t RowBits(uint32_t d, const RowStorage& storage);
// Bytes of one full table of n rows of d stored as `storage` as loaded (codebooks and scales
// included; head/tail: both groups, the head bits and the rank directory).
uint64_t FullTableBytes(uint64_t n, uint32_t d, const RowStorage& storage);

// "input pq16x4, output pq32x4 (17.7x)".
std::string DescribeRowBudget(const RowBudget& budget);

}  // namespace ranker

#endif  // RANKER_MODEL_ROW_BUDGET_H_
