// The budget rule (model/row_budget.h): the recommendation reaches the ratio, spends the most
// bytes that do, counts bytes exactly as the stored tables take them, and says when no storage
// can reach a ratio.
#include "model/row_budget.h"

#include <gtest/gtest.h>

#include "model/table_rows.h"
#include "model/table_sizing.h"

namespace ranker {
namespace {

TEST(RowBudgetTest, BytesAreThoseOfTheStoredTable) {
  for (const char* name : {"float32", "int8", "pq16x8", "pq32x4", "pq1x8", "pq64x4"}) {
    const RowStorage storage = *ParseRowStorage(name);
    TableSpec spec = *SizeTable("item", snapshot::FULL, 5000, 64, 1);
    SetRowStorage(storage, &spec);
    EXPECT_EQ(FullTableBytes(5000, 64, storage), StoredTableBytes(spec)) << name;
  }
}

bool FourBit(const RowBudget& b) { return b.input.pq_bits == 4 || b.output.pq_bits == 4; }
uint64_t Bits(const RowBudget& b) { return RowBits(64, b.input) + RowBits(64, b.output); }

TEST(RowBudgetTest, ReachesTheRatioPreferringEightBitCodesThenTheMostBits) {
  for (uint64_t n : {1682u, 9724u, 57289u, 1000000u}) {
    uint64_t previous = ~uint64_t{0};
    for (double ratio : {1.0, 4.0, 8.0, 16.0, 32.0, 64.0}) {
      auto budget = RecommendRowBudget(n, 64, ratio);
      if (!budget.ok()) {
        EXPECT_EQ(budget.status().code(), absl::StatusCode::kInvalidArgument);
        EXPECT_NE(budget.status().message().find("at most"), std::string::npos);
        continue;
      }
      EXPECT_GE(budget->whole_ratio, ratio) << n << " " << ratio;
      EXPECT_DOUBLE_EQ(budget->whole_ratio, 2.0 * n * 64 * 4 / budget->bytes);
      EXPECT_EQ(budget->bytes,
                FullTableBytes(n, 64, budget->input) + FullTableBytes(n, 64, budget->output));
      EXPECT_GE(RowBits(64, budget->output), RowBits(64, budget->input));
      EXPECT_LE(budget->bytes, previous) << "a larger ratio never spends more";
      previous = budget->bytes;
      // From 16x, head/tail storages (tests/model/head_tail_rows_test.cc) where one reaches
      // the ratio; otherwise no single-width candidate the rule prefers reaches it.
      bool head_tail_reaches = false;
      for (const RowBudget& other : HeadTailCandidates(n, 64)) {
        head_tail_reaches |= other.whole_ratio >= ratio;
      }
      ASSERT_EQ(IsHeadTail(budget->input), ratio >= kHeadTailFromRatio && head_tail_reaches)
          << n << " " << ratio;
      if (IsHeadTail(budget->input)) continue;
      for (const RowBudget& other : BudgetCandidates(n, 64)) {
        if (other.whole_ratio < ratio) continue;
        EXPECT_FALSE(FourBit(*budget) && !FourBit(other))
            << "8-bit " << DescribeRowBudget(other) << " reaches " << ratio << "x";
        if (FourBit(*budget) == FourBit(other)) {
          EXPECT_LE(Bits(other), Bits(*budget));
        }
      }
    }
  }
  EXPECT_EQ(RecommendRowBudget(1000, 64, 1)->input.dtype, snapshot::FLOAT32);
  EXPECT_EQ(RecommendRowBudget(1000, 64, 1)->output.dtype, snapshot::FLOAT32);
  // The frontier's catalogues at 8x (docs/frontier/frontier.md), below head/tail's range:
  // ml-100k's is too small for 8-bit codebooks; the larger ones afford them.
  EXPECT_EQ(DescribeRowBudget(*RecommendRowBudget(1682, 64, 8)),
            "input pq32x4, output pq64x4 (9.7x, 88928 bytes)");
  EXPECT_EQ(RowStorageName(RecommendRowBudget(57289, 64, 8)->input), "pq16x8");
  // Per table: 505 head rows of 16 bytes + 1,177 tail rows of 8 + two 4 KiB codebooks + 27
  // words of head bits + 4 rank entries = 25,920 bytes.
  EXPECT_EQ(DescribeRowBudget(*RecommendRowBudget(1682, 64, 16)),
            "input head30:pq32x4+pq16x4, output head30:pq32x4+pq16x4 (16.6x, 51840 bytes)");
}

TEST(RowBudgetTest, HeadTailBytesAreThoseOfTheLoadedTable) {
  // Stored tensors plus the rank directory built at load (tests/model/head_tail_rows_test.cc
  // checks a loaded table against it).
  for (const char* name : {"head20:pq32x8+pq8x8", "head5:pq32x4+pq2x4"}) {
    const RowStorage storage = *ParseRowStorage(name);
    TableSpec spec = *SizeTable("item", snapshot::FULL, 5000, 64, 1);
    SetRowStorage(storage, &spec);
    spec.set_head_rows(5000 * storage.head_percent / 100);
    EXPECT_EQ(FullTableBytes(5000, 64, storage), StoredTableBytes(spec) + (5000 / 512 + 1) * 4)
        << name;
  }
}

TEST(RowBudgetTest, SmallCataloguesCannotAmortiseCodebooks) {
  // 100 items: even one 4-bit code per row pair needs a 16-centroid codebook of 64 floats.
  const absl::Status status = RecommendRowBudget(100, 64, 64).status();
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(status.message().find("no row storage makes 100 items of d=64 64x smaller"),
            std::string::npos)
      << status;
  EXPECT_EQ(RecommendRowBudget(100, 64, 0.5).status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(RecommendRowBudget(0, 64, 4).status().code(), absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace ranker
