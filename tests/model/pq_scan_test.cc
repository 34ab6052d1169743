// The bounded pq scan (model/pq_scan.h, model/pq_scan_kernel.h): the SIMD kernel keeps what the
// scalar loop keeps for every sub-vector count and cut; the candidates hold every row whose
// exact score (floats summed in sub-vector order, as table_dot.cc sums them) is among the keep
// best, ties included, for tables of every scale, one group or two; they are far fewer than
// the rows; and where the bound cannot prune, the scan says so.
#include "model/pq_scan.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <random>
#include <vector>

namespace ranker {
namespace {

struct Group {
  std::vector<uint8_t> codes;
  std::vector<float> lut;
  uint32_t subvectors;
  uint64_t rows;
  PqScanGroup View() const { return {codes.data(), rows, subvectors, lut.data()}; }
};

// Codes drawn uniformly, the lookup table N(offset, spread) per entry.
Group RandomGroup(uint64_t rows, uint32_t subvectors, float offset, float spread,
                  std::mt19937* rng) {
  Group group{std::vector<uint8_t>(rows * subvectors), std::vector<float>(subvectors * 256),
              subvectors, rows};
  std::uniform_int_distribution<int> code(0, 255);
  std::normal_distribution<float> value(offset, spread);
  for (uint8_t& c : group.codes) c = static_cast<uint8_t>(code(*rng));
  for (float& v : group.lut) v = value(*rng);
  return group;
}

float ExactScore(const Group& group, uint64_t row) {
  float sum = 0;
  for (uint32_t j = 0; j < group.subvectors; ++j) {
    sum += group.lut[j * 256 + group.codes[row * group.subvectors + j]];
  }
  return sum;
}

// The kernel's candidates (rows whose sum reaches the cut, with their sums) are the scalar
// loop's, for every sub-vector count it takes and cuts from none to all.
TEST(PqScanTest, TheSimdKernelKeepsWhatTheScalarLoopKeeps) {
  if (PqScanSimdFor(32) == nullptr) {
    GTEST_SKIP() << "no AVX-512 VBMI here: the scan takes the scalar loop alone";
  }
  std::mt19937 rng(7);
  std::uniform_int_distribution<int> byte(0, 255);
  const auto sorted = [](std::vector<PqScanCandidate> c) {
    std::sort(c.begin(), c.end(),
              [](const PqScanCandidate& a, const PqScanCandidate& b) { return a.row < b.row; });
    return c;
  };
  for (uint32_t subvectors : {1u, 2u, 4u, 8u, 16u, 32u, 64u}) {
    SCOPED_TRACE(subvectors);
    const PqScanFn simd = PqScanSimdFor(subvectors);
    ASSERT_NE(simd, nullptr);
    const uint64_t rows = 64 * 9;
    Group group = RandomGroup(rows + 17, subvectors, 0, 1, &rng);
    std::vector<uint8_t> quantised(subvectors * 256);
    for (uint8_t& q : quantised) q = static_cast<uint8_t>(byte(rng));
    const uint32_t typical = subvectors * 128;
    for (uint32_t cut :
         {0u, typical - typical / 8, typical, typical + typical / 8, subvectors * 255 + 1}) {
      for (uint64_t first : {uint64_t{0}, uint64_t{128}}) {
        std::vector<PqScanCandidate> fast, slow;
        simd(group.View(), 1, quantised.data(), first, rows - first, cut, &fast);
        PqScanScalar(group.View(), 1, quantised.data(), first, rows - first, cut, &slow);
        fast = sorted(fast);
        ASSERT_EQ(fast.size(), slow.size()) << "cut " << cut;
        for (size_t i = 0; i < fast.size(); ++i) {
          ASSERT_EQ(fast[i].row, slow[i].row) << "cut " << cut;
          ASSERT_EQ(fast[i].sum, slow[i].sum) << "row " << fast[i].row;
          ASSERT_EQ(fast[i].group, 1u);
        }
        if (cut == 0) {
          EXPECT_EQ(fast.size(), rows - first);
        }
      }
    }
  }
}

// Checks PqScanCandidates over `groups` for each keep: sorted, distinct, in range, and holding
// every row whose exact score is >= the keep-th best. Returns the candidates counted at the
// smallest keep.
size_t ExpectCandidatesHoldTheBest(const std::vector<Group>& groups,
                                   const std::vector<size_t>& keeps, bool may_give_up = false) {
  std::vector<PqScanGroup> views;
  std::vector<float> all;
  for (const Group& g : groups) {
    views.push_back(g.View());
    for (uint64_t r = 0; r < g.rows; ++r) all.push_back(ExactScore(g, r));
  }
  std::vector<float> sorted = all;
  std::sort(sorted.rbegin(), sorted.rend());
  PqScanScratch scratch;
  size_t first_count = 0;
  for (size_t keep : keeps) {
    SCOPED_TRACE(keep);
    std::vector<uint64_t> rows[kMaxPqScanGroups];
    if (!PqScanCandidates(views.data(), views.size(), keep, &scratch, rows)) {
      EXPECT_TRUE(may_give_up) << "the scan gave up";
      continue;
    }
    const float kth = sorted[std::min(keep, sorted.size()) - 1];
    size_t count = 0;
    for (size_t g = 0; g < groups.size(); ++g) {
      EXPECT_TRUE(std::is_sorted(rows[g].begin(), rows[g].end()));
      EXPECT_EQ(std::adjacent_find(rows[g].begin(), rows[g].end()), rows[g].end());
      count += rows[g].size();
      for (uint64_t r = 0; r < groups[g].rows; ++r) {
        if (ExactScore(groups[g], r) < kth) continue;
        EXPECT_TRUE(std::binary_search(rows[g].begin(), rows[g].end(), r))
            << "group " << g << " row " << r << " scores " << ExactScore(groups[g], r)
            << " >= the keep-th best " << kth << " but is not a candidate";
      }
    }
    EXPECT_GE(count, std::min(keep, all.size()));
    if (first_count == 0) first_count = count;
  }
  return first_count;
}

TEST(PqScanTest, CandidatesHoldEveryRowThatCanBeAmongTheBest) {
  std::mt19937 rng(11);
  // One group: 32 sub-vectors (a head's), then 8 (a single-width table's), at scales from
  // 1e-6 to 1e6, and far from zero (where every float sum's rounding is wide, so the bound
  // holds many rows).
  for (const auto& [subvectors, offset, spread, prunes] :
       {std::tuple{32u, 0.0f, 1.0f, true}, std::tuple{8u, 0.0f, 1e-6f, true},
        std::tuple{16u, -5.0f, 1e6f, true}, std::tuple{5u, 0.0f, 0.1f, true},
        std::tuple{8u, 1e3f, 1e-2f, false}}) {
    SCOPED_TRACE(testing::Message()
                 << subvectors << " sub-vectors, N(" << offset << ", " << spread << ")");
    const std::vector<Group> groups = {RandomGroup(20000 + 37, subvectors, offset, spread, &rng)};
    const size_t candidates =
        ExpectCandidatesHoldTheBest(groups, {1, 10, 100, 1000, 30000}, /*may_give_up=*/!prunes);
    // The point of the scan: a few keep-th bests' worth of rows, not all of them.
    if (prunes) {
      EXPECT_LT(candidates, groups[0].rows / 20) << "keep 1";
    }
  }
  // Two groups (head and tail), their tables on different scales.
  const std::vector<Group> head_tail = {RandomGroup(6000 + 5, 32, 0.5f, 1.0f, &rng),
                                        RandomGroup(14000 + 60, 4, 0.0f, 0.2f, &rng)};
  const size_t candidates = ExpectCandidatesHoldTheBest(head_tail, {1, 7, 250, 5000});
  EXPECT_LT(candidates, 20065u / 20);
}

// Rows with the best row's codes tie with it exactly: every one is kept, however small keep.
TEST(PqScanTest, RowsTiedWithTheBestAreAllKept) {
  std::mt19937 rng(3);
  Group group = RandomGroup(5000, 16, 0, 1, &rng);
  uint64_t best = 0;
  for (uint64_t r = 1; r < group.rows; ++r) {
    if (ExactScore(group, r) > ExactScore(group, best)) best = r;
  }
  std::vector<uint64_t> copies;
  for (uint64_t r = 7; r < group.rows; r += 131) {  // 39 rows, across blocks and chunks
    if (r == best) continue;
    std::copy_n(group.codes.begin() + best * 16, 16, group.codes.begin() + r * 16);
    copies.push_back(r);
  }
  const PqScanGroup view = group.View();
  PqScanScratch scratch;
  std::vector<uint64_t> rows[kMaxPqScanGroups];
  ASSERT_TRUE(PqScanCandidates(&view, 1, 3, &scratch, rows));
  for (uint64_t r : copies) {
    EXPECT_TRUE(std::binary_search(rows[0].begin(), rows[0].end(), r)) << "row " << r;
  }
  EXPECT_TRUE(std::binary_search(rows[0].begin(), rows[0].end(), best));
}

// Where every row ties (a constant table) the bound prunes nothing: the scan gives up and the
// caller scores every row exactly. So does a keep of 0.
TEST(PqScanTest, ItGivesUpWhereTheBoundCannotPrune) {
  std::mt19937 rng(3);
  Group group = RandomGroup(5000, 16, 0, 1, &rng);
  for (uint32_t j = 0; j < 16; ++j) {
    std::fill_n(group.lut.begin() + j * 256, 256, 0.25f * static_cast<float>(j));
  }
  const PqScanGroup view = group.View();
  PqScanScratch scratch;
  std::vector<uint64_t> rows[kMaxPqScanGroups];
  EXPECT_FALSE(PqScanCandidates(&view, 1, 3, &scratch, rows));
  EXPECT_FALSE(PqScanCandidates(&view, 1, 0, &scratch, rows));
}

TEST(PqScanTest, TablesThatAreNotFiniteAreRefused) {
  std::mt19937 rng(5);
  for (const float bad :
       {std::numeric_limits<float>::quiet_NaN(), std::numeric_limits<float>::infinity(), 1e36f}) {
    Group group = RandomGroup(1000, 8, 0, 1, &rng);
    group.lut[3 * 256 + 17] = bad;
    const PqScanGroup view = group.View();
    PqScanScratch scratch;
    std::vector<uint64_t> rows[kMaxPqScanGroups];
    EXPECT_FALSE(PqScanCandidates(&view, 1, 10, &scratch, rows)) << bad;
  }
}

}  // namespace
}  // namespace ranker
