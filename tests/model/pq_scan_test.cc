// The bounded pq scan (model/pq_scan.h): the SIMD byte-table sums equal the scalar ones for
// every sub-vector count; the candidates hold every row whose exact score (floats summed in
// sub-vector order, as table_dot.cc sums them) is among the keep best, ties included, for
// tables of every scale, one group or two; and they are far fewer than the rows.
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

TEST(PqScanTest, SimdSumsEqualTheScalarSums) {
  if (!PqScanHasSimd()) GTEST_SKIP() << "no AVX-512 VBMI here: PqScanSums is the scalar loop";
  std::mt19937 rng(7);
  std::uniform_int_distribution<int> byte(0, 255);
  for (uint32_t subvectors : {1u, 2u, 3u, 4u, 8u, 16u, 32u, 64u}) {
    SCOPED_TRACE(subvectors);
    const uint64_t rows = 64 * 9 + 17;  // whole blocks and a remainder
    Group group = RandomGroup(rows, subvectors, 0, 1, &rng);
    std::vector<uint8_t> quantised(subvectors * 256);
    for (uint8_t& q : quantised) q = static_cast<uint8_t>(byte(rng));
    for (uint64_t first : {uint64_t{0}, uint64_t{128}}) {
      std::vector<uint32_t> sums(rows - first);
      PqScanSums(group.View(), quantised.data(), first, sums.size(), sums.data());
      for (uint64_t r = first; r < rows; ++r) {
        ASSERT_EQ(sums[r - first],
                  PqScanRowSum(group.codes.data() + r * subvectors, subvectors, quantised.data()))
            << "row " << r;
      }
    }
  }
}

// Checks PqScanCandidates over `groups` for each keep: sorted, distinct, in range, and holding
// every row whose exact score is >= the keep-th best. Returns the candidates counted at the
// smallest keep.
size_t ExpectCandidatesHoldTheBest(const std::vector<Group>& groups,
                                   const std::vector<size_t>& keeps) {
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
    EXPECT_TRUE(PqScanCandidates(views.data(), views.size(), keep, &scratch, rows));
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
    SCOPED_TRACE(testing::Message() << subvectors << " sub-vectors, N(" << offset << ", "
                                    << spread << ")");
    const std::vector<Group> groups = {RandomGroup(20000 + 37, subvectors, offset, spread, &rng)};
    const size_t candidates = ExpectCandidatesHoldTheBest(groups, {1, 10, 100, 1000, 30000});
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

TEST(PqScanTest, TiesAreAllKept) {
  std::mt19937 rng(3);
  Group group = RandomGroup(5000, 16, 0, 1, &rng);
  // Every code of a sub-vector scores the same: every row ties with the best.
  for (uint32_t j = 0; j < 16; ++j) {
    std::fill_n(group.lut.begin() + j * 256, 256, 0.25f * static_cast<float>(j));
  }
  const PqScanGroup view = group.View();
  PqScanScratch scratch;
  std::vector<uint64_t> rows[kMaxPqScanGroups];
  ASSERT_TRUE(PqScanCandidates(&view, 1, 3, &scratch, rows));
  EXPECT_EQ(rows[0].size(), 5000u);
}

TEST(PqScanTest, TablesThatAreNotFiniteAreRefused) {
  std::mt19937 rng(5);
  for (const float bad : {std::numeric_limits<float>::quiet_NaN(),
                          std::numeric_limits<float>::infinity(), 1e36f}) {
    Group group = RandomGroup(1000, 8, 0, 1, &rng);
    group.lut[3 * 256 + 17] = bad;
    const PqScanGroup view = group.View();
    PqScanScratch scratch;
    std::vector<uint64_t> rows[kMaxPqScanGroups];
    rows[0] = {42};
    EXPECT_FALSE(PqScanCandidates(&view, 1, 10, &scratch, rows)) << bad;
    EXPECT_EQ(rows[0], std::vector<uint64_t>{42}) << "untouched";
  }
}

}  // namespace
}  // namespace ranker
