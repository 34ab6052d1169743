#include "client/latency_histogram.h"

#include <algorithm>
#include <bit>
#include <cmath>

namespace ranker {

LatencyHistogram::LatencyHistogram() {
  for (auto& b : buckets_) b.store(0, std::memory_order_relaxed);
}

int LatencyHistogram::BucketOf(uint64_t nanos) {
  if (nanos < 2 * kSub) return static_cast<int>(nanos);  // exact below 64 ns
  const int octave = std::bit_width(nanos) - 1;          // >= kSubBits + 1
  const int shift = octave - kSubBits;
  const int sub = static_cast<int>((nanos >> shift) & (kSub - 1));
  const int bucket = 2 * kSub + (octave - kSubBits - 1) * kSub + sub;
  return std::min(bucket, kBuckets - 1);
}

uint64_t LatencyHistogram::UpperEdge(int bucket) {
  if (bucket < 2 * kSub) return static_cast<uint64_t>(bucket);
  const int octave = (bucket - 2 * kSub) / kSub + kSubBits + 1;
  const int sub = (bucket - 2 * kSub) % kSub;
  const int shift = octave - kSubBits;
  return ((uint64_t{kSub} + static_cast<uint64_t>(sub) + 1) << shift) - 1;
}

void LatencyHistogram::Record(uint64_t nanos) {
  auto& bucket = buckets_[BucketOf(nanos)];
  bucket.store(bucket.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
}

uint64_t LatencyHistogram::count() const {
  uint64_t total = 0;
  for (const auto& b : buckets_) total += b.load(std::memory_order_relaxed);
  return total;
}

LatencyHistogram::Counts LatencyHistogram::Read() const {
  Counts counts;
  for (int i = 0; i < kBuckets; ++i) {
    counts.buckets[i] = buckets_[i].load(std::memory_order_relaxed);
    counts.total += counts.buckets[i];
  }
  return counts;
}

void LatencyHistogram::Counts::Add(const Counts& other) {
  for (int i = 0; i < kBuckets; ++i) buckets[i] += other.buckets[i];
  total += other.total;
}

LatencyHistogram::Counts LatencyHistogram::Counts::Minus(const Counts& earlier) const {
  Counts diff;
  for (int i = 0; i < kBuckets; ++i) diff.buckets[i] = buckets[i] - earlier.buckets[i];
  diff.total = total - earlier.total;
  return diff;
}

uint64_t LatencyHistogram::Counts::Quantile(double q) const {
  if (total == 0) return 0;
  const uint64_t rank =
      std::max<uint64_t>(1, static_cast<uint64_t>(std::ceil(q * static_cast<double>(total))));
  uint64_t seen = 0;
  for (int i = 0; i < kBuckets; ++i) {
    seen += buckets[i];
    if (seen >= rank) return UpperEdge(i);
  }
  return UpperEdge(kBuckets - 1);
}

}  // namespace ranker
