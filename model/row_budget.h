// What to serve for a memory budget: the row storages of a history model's two full item tables
// (n items of d) for a whole model at least `ratio` times smaller than the full float32 tables
// (ratio = 2 n d 4 bytes / the two tables' stored bytes). The rule, from the frontier
// (docs/frontier/frontier.md): product-quantised full tables lie on its Pareto front from 4x
// up, and quality grows with the bits each item keeps, so the recommendation is the pair of
// storages (float32, int8, or pq<M>x<bits> with M dividing d and 4 or 8 bits) that keeps the
// most bits per item (both tables' rows together) and still reaches the ratio, codebooks and
// scales counted; on a tie, the one with more bytes (a finer codebook), then the one spending
// more on the output table, which carries more of the loss. Pure function.
#ifndef RANKER_MODEL_ROW_BUDGET_H_
#define RANKER_MODEL_ROW_BUDGET_H_

#include <cstdint>
#include <string>

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

// Bits one row of d keeps under `storage`: 32 d, 8 d + 32 (int8 and its scale), or M x bits.
uint64_t RowBits(uint32_t d, const RowStorage& storage);
// Bytes of one full table of n rows of d stored as `storage` (codebooks and scales included).
uint64_t FullTableBytes(uint64_t n, uint32_t d, const RowStorage& storage);

// "input pq16x4, output pq32x4 (17.7x)".
std::string DescribeRowBudget(const RowBudget& budget);

}  // namespace ranker

#endif  // RANKER_MODEL_ROW_BUDGET_H_
