#include "model/pq_scan.h"

#include <algorithm>
#include <cmath>
#include <functional>
#include <limits>

namespace ranker {
namespace {

using Candidate = PqScanCandidate;

constexpr uint32_t kMaxSubvectors = 64;
constexpr size_t kChunkRows = 4096;  // rows scanned between compactions
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
    const float* row = group.lut + size_t{j} * kPqScanCodes;
    float low = row[0], high = row[0];
    for (uint32_t c = 0; c < kPqScanCodes; ++c) {
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
    const float* row = group.lut + size_t{j} * kPqScanCodes;
    for (uint32_t c = 0; c < kPqScanCodes; ++c) {
      const double level = std::nearbyint((double{row[c]} - lows[j]) / scale);
      quantised[size_t{j} * kPqScanCodes + c] = static_cast<uint8_t>(std::clamp(level, 0.0, 255.0));
    }
  }
  bound->scale = scale;
  bound->bias = bias;
  // Rounding to a level: s / 2 per sub-vector (a little more for the division's rounding). The
  // exact score sums `subvectors` floats in float: at most (subvectors + 2) units of 2^-24 of
  // the sum of magnitudes; doubled, for the double arithmetic here.
  bound->error =
      0.5 * subvectors * scale * (1 + 1e-9) + (subvectors + 2) * 2 * std::ldexp(magnitude, -24);
  bound->max_sum = subvectors * 255;
  return true;
}

// Rows [first, first + count) of `group`: whole blocks through the SIMD kernel where there is
// one, the rest through the scalar loop.
void Scan(const PqScanGroup& group, uint32_t group_index, const uint8_t* quantised, uint64_t first,
          size_t count, uint32_t cut, std::vector<Candidate>* out) {
  size_t done = 0;
  if (const PqScanFn simd = PqScanSimdFor(group.subvectors); simd != nullptr) {
    done = count / kPqScanBlockRows * kPqScanBlockRows;
    simd(group, group_index, quantised, first, done, cut, out);
  }
  PqScanScalar(group, group_index, quantised, first + done, count - done, cut, out);
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
  std::erase_if(candidates, [&](const Candidate& c) { return bounds[c.group].Upper(c.sum) < cut; });
}

}  // namespace

bool PqScanCandidates(const PqScanGroup* groups, size_t group_count, size_t keep,
                      PqScanScratch* scratch, std::vector<uint64_t>* rows) {
  if (keep == 0 || group_count > kMaxPqScanGroups) return false;
  GroupBound bounds[kMaxPqScanGroups];
  size_t table_bytes = 0;
  uint64_t total_rows = 0;
  for (size_t g = 0; g < group_count; ++g) {
    if (groups[g].subvectors == 0 || groups[g].subvectors > kMaxSubvectors) return false;
    table_bytes += size_t{groups[g].subvectors} * kPqScanCodes;
    total_rows += groups[g].rows;
  }
  scratch->quantised.resize(table_bytes);
  size_t offset = 0;
  for (size_t g = 0; g < group_count; ++g) {
    if (!Quantise(groups[g], scratch->quantised.data() + offset, &bounds[g])) return false;
    offset += size_t{groups[g].subvectors} * kPqScanCodes;
  }
  std::vector<Candidate>& candidates = scratch->candidates;
  candidates.clear();
  size_t capacity = std::max(4 * keep, kMinCapacity);
  // Past this many survivors the bound does not prune: give up (the caller scans exactly).
  const uint64_t give_up = std::max<uint64_t>(total_rows / 16, capacity);
  candidates.reserve(capacity + kChunkRows);
  scratch->lower.reserve(capacity + kChunkRows);
  double threshold = -std::numeric_limits<double>::infinity();
  offset = 0;
  for (size_t g = 0; g < group_count; ++g) {
    const uint8_t* quantised = scratch->quantised.data() + offset;
    offset += size_t{groups[g].subvectors} * kPqScanCodes;
    for (uint64_t first = 0; first < groups[g].rows; first += kChunkRows) {
      const size_t count =
          static_cast<size_t>(std::min<uint64_t>(kChunkRows, groups[g].rows - first));
      Scan(groups[g], static_cast<uint32_t>(g), quantised, first, count, bounds[g].Cut(threshold),
           &candidates);
      // The first threshold as soon as there is one, then whenever the candidates fill up.
      const bool first_threshold =
          threshold == -std::numeric_limits<double>::infinity() && candidates.size() > keep;
      if (first_threshold || candidates.size() >= capacity) {
        Compact(bounds, keep, scratch, &threshold);
        if (candidates.size() > give_up) return false;
        // Survivors that tie or sit within the bound stay: compact again only once they have
        // doubled, so each compaction pays for itself.
        capacity = std::max(capacity, 2 * candidates.size());
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
