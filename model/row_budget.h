// What to serve for a memory budget: the row storages of a history model's two full item tables
// (n items of d) for a whole model at least `ratio` times smaller than the full float32 tables
// (ratio = 2 n d 4 bytes / the two tables' stored bytes, codebooks and scales counted). The
// rule, from the frontier (docs/frontier/frontier.md), over the shapes it measured: both tables
// float32, int8, pq<M>x<bits>, or pq<M>x<bits> in and pq<2M>x<bits> out (M a power of two).
// Product-quantised full tables lie on its Pareto front; 8-bit codes beat 4-bit codes of the
// same bytes wherever their 256-centroid codebooks are affordable, and quality grows with the
// bits each item keeps. So: the candidate that reaches the ratio with no 4-bit codes if there is
// one (4-bit codes only where 8-bit codebooks cost too much: small catalogues), then the most
// bits per item, then the most bytes, then more of them on the output table. Pure functions.
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

// Every pair of storages the rule chooses from, for n items of d.
std::vector<RowBudget> BudgetCandidates(uint64_t n, uint32_t d);

// Bits one row of d keeps under `storage`: 32 d, 8 d + 32 (int8 and its scale), or M x bits.
uint64_t RowBits(uint32_t d, const RowStorage& storage);
// Bytes of one full table of n rows of d stored as `storage` (codebooks and scales included).
uint64_t FullTableBytes(uint64_t n, uint32_t d, const RowStorage& storage);

// "input pq16x4, output pq32x4 (17.7x)".
std::string DescribeRowBudget(const RowBudget& budget);

}  // namespace ranker

#endif  // RANKER_MODEL_ROW_BUDGET_H_
