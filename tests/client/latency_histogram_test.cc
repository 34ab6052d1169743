#include "client/latency_histogram.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <random>
#include <thread>
#include <vector>

namespace ranker {
namespace {

// The stated resolution: 32 sub-buckets per power of two, so a reported value (a bucket's
// upper edge) exceeds the true one by less than 1/32 of it, and never falls below it.
void ExpectWithinResolution(uint64_t reported, uint64_t truth) {
  EXPECT_GE(reported, truth);
  EXPECT_LE(static_cast<double>(reported), static_cast<double>(truth) * (1.0 + 1.0 / 32))
      << "reported " << reported << " for " << truth;
}

// The exact q-quantile of `values` by the same rank rule: the ceil(q * n)-th smallest.
uint64_t ExactQuantile(std::vector<uint64_t> values, double q) {
  std::sort(values.begin(), values.end());
  const auto rank = std::max<size_t>(1, static_cast<size_t>(std::ceil(q * values.size())));
  return values[rank - 1];
}

TEST(LatencyHistogramTest, BucketsCoverEveryValueWithinResolution) {
  std::vector<uint64_t> values;
  for (uint64_t v = 0; v < 5000; ++v) values.push_back(v);
  for (int bit = 6; bit < 41; ++bit) {
    const uint64_t p = uint64_t{1} << bit;
    values.insert(values.end(), {p - 1, p, p + 1, p + p / 2, 2 * p - 1});
  }
  std::mt19937_64 rng(3);
  for (int i = 0; i < 10000; ++i) values.push_back(rng() >> (64 - 41));
  for (uint64_t v : values) {
    const int bucket = LatencyHistogram::BucketOf(v);
    ASSERT_GE(bucket, 0) << v;
    ASSERT_LT(bucket, LatencyHistogram::kBuckets) << v;
    if (v < 64) {
      ASSERT_EQ(LatencyHistogram::UpperEdge(bucket), v);  // exact below 64 ns
    }
    ExpectWithinResolution(LatencyHistogram::UpperEdge(bucket), v);
    if (bucket > 0) {
      ASSERT_LT(LatencyHistogram::UpperEdge(bucket - 1), v) << v;
    }
  }
  // Edges strictly increase, so buckets partition the range.
  for (int b = 1; b < LatencyHistogram::kBuckets; ++b) {
    ASSERT_LT(LatencyHistogram::UpperEdge(b - 1), LatencyHistogram::UpperEdge(b)) << b;
    ASSERT_EQ(LatencyHistogram::BucketOf(LatencyHistogram::UpperEdge(b)), b);
  }
}

TEST(LatencyHistogramTest, ValuesBeyondTheRangeLandInTheLastBucket) {
  const uint64_t top = LatencyHistogram::UpperEdge(LatencyHistogram::kBuckets - 1);
  EXPECT_GE(top, uint64_t{1} << 40);  // ~18 minutes: far beyond any deadline
  LatencyHistogram histogram;
  histogram.Record(top + 1);
  histogram.Record(UINT64_MAX);
  EXPECT_EQ(histogram.count(), 2u);
  EXPECT_EQ(histogram.Read().Quantile(0.5), top);
}

TEST(LatencyHistogramTest, EmptyHistogram) {
  LatencyHistogram histogram;
  EXPECT_EQ(histogram.count(), 0u);
  const LatencyHistogram::Counts counts = histogram.Read();
  EXPECT_EQ(counts.total, 0u);
  for (double q : {0.0, 0.5, 0.99, 1.0}) EXPECT_EQ(counts.Quantile(q), 0u) << q;
  EXPECT_EQ(LatencyHistogram::Counts().Quantile(0.5), 0u);
}

TEST(LatencyHistogramTest, PercentilesOfKnownDistributions) {
  std::mt19937_64 rng(11);
  struct Distribution {
    const char* name;
    std::vector<uint64_t> values;
  };
  std::vector<Distribution> distributions = {
      {"uniform 1..100000", {}},
      {"constant 250us", std::vector<uint64_t>(1000, 250000)},
      {"90% 1us, 10% 1ms", {}},
      {"exponential mean 2ms", {}},
      {"small exact values", {}}};
  for (uint64_t v = 1; v <= 100000; ++v) distributions[0].values.push_back(v);
  for (int i = 0; i < 1000; ++i) distributions[2].values.push_back(i % 10 == 0 ? 1000000 : 1000);
  std::exponential_distribution<double> exponential(1.0 / 2e6);
  for (int i = 0; i < 20000; ++i) {
    distributions[3].values.push_back(static_cast<uint64_t>(exponential(rng)) + 1);
  }
  for (uint64_t v = 0; v < 64; ++v) distributions[4].values.push_back(v);

  for (const Distribution& d : distributions) {
    SCOPED_TRACE(d.name);
    LatencyHistogram histogram;
    for (uint64_t v : d.values) histogram.Record(v);
    const LatencyHistogram::Counts counts = histogram.Read();
    EXPECT_EQ(counts.total, d.values.size());
    EXPECT_EQ(histogram.count(), d.values.size());
    for (double q : {0.0, 0.01, 0.5, 0.9, 0.91, 0.99, 0.999, 1.0}) {
      SCOPED_TRACE(q);
      ExpectWithinResolution(counts.Quantile(q), ExactQuantile(d.values, q));
    }
    EXPECT_LE(counts.Quantile(0.5), counts.Quantile(0.99));
    EXPECT_LE(counts.Quantile(0.99), counts.Quantile(1.0));
  }
  // Spot checks that pin the rank rule: p90 of "90% 1us" is still 1us, p91 is 1ms.
  LatencyHistogram bimodal;
  for (uint64_t v : distributions[2].values) bimodal.Record(v);
  EXPECT_LT(bimodal.Read().Quantile(0.9), 1100u);
  EXPECT_GE(bimodal.Read().Quantile(0.91), 1000000u);
  // Small values are exact.
  LatencyHistogram small;
  for (uint64_t v : distributions[4].values) small.Record(v);
  EXPECT_EQ(small.Read().Quantile(0.5), 31u);
  EXPECT_EQ(small.Read().Quantile(1.0), 63u);
}

TEST(LatencyHistogramTest, MaxIsTheLargestValuesBucket) {
  LatencyHistogram histogram;
  for (uint64_t v : {5u, 70u, 1000u, 123456789u, 4000u}) histogram.Record(v);
  ExpectWithinResolution(histogram.Read().Quantile(1.0), 123456789u);
}

TEST(LatencyHistogramTest, MergeAndWindow) {
  std::mt19937_64 rng(5);
  LatencyHistogram a, b, both;
  std::vector<uint64_t> all;
  for (int i = 0; i < 5000; ++i) {
    const uint64_t v = rng() % 10000000;
    (i % 3 == 0 ? a : b).Record(v);
    both.Record(v);
    all.push_back(v);
  }
  LatencyHistogram::Counts merged = a.Read();
  merged.Add(b.Read());
  const LatencyHistogram::Counts expected = both.Read();
  EXPECT_EQ(merged.total, expected.total);
  EXPECT_EQ(merged.buckets, expected.buckets);
  for (double q : {0.5, 0.99, 1.0}) {
    EXPECT_EQ(merged.Quantile(q), expected.Quantile(q)) << q;
    ExpectWithinResolution(merged.Quantile(q), ExactQuantile(all, q));
  }
  // Minus undoes Add: the window after a's counts is b's.
  const LatencyHistogram::Counts window = merged.Minus(a.Read());
  EXPECT_EQ(window.total, b.count());
  EXPECT_EQ(window.buckets, b.Read().buckets);
}

TEST(LatencyHistogramTest, ReaderSeesAMonotoneCountWhileOneWriterRecords) {
  constexpr uint64_t kRecords = 200000;
  LatencyHistogram histogram;
  std::thread writer([&histogram] {
    for (uint64_t i = 0; i < kRecords; ++i) histogram.Record(i % 100000);
  });
  uint64_t last = 0;
  while (last < kRecords) {
    const LatencyHistogram::Counts counts = histogram.Read();
    ASSERT_GE(counts.total, last);
    last = counts.total;
    if (counts.total == kRecords) break;
    std::this_thread::yield();
  }
  writer.join();
  EXPECT_EQ(histogram.count(), kRecords);
}

}  // namespace
}  // namespace ranker
