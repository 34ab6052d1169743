#include "server/atomic_histogram.h"

#include <gtest/gtest.h>
#include <prometheus/client_metric.h>
#include <prometheus/histogram.h>
#include <prometheus/metric_family.h>

#include <cmath>
#include <cstdint>
#include <limits>
#include <string>
#include <thread>
#include <vector>

namespace ranker {
namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();

// The one child's buckets (not cumulative) after observing `value` alone.
std::vector<uint64_t> BucketsAfter(const std::vector<double>& bounds, double value) {
  std::vector<double> owned = bounds;
  AtomicHistogram histogram(&owned);
  histogram.Observe(value);
  std::vector<uint64_t> cumulative;
  double sum = 0;
  uint64_t count = 0;
  histogram.Snapshot(&cumulative, &sum, &count);
  EXPECT_EQ(count, 1u);
  std::vector<uint64_t> buckets(cumulative.size());
  for (size_t i = 0; i < cumulative.size(); ++i) {
    buckets[i] = cumulative[i] - (i == 0 ? 0 : cumulative[i - 1]);
  }
  return buckets;
}

TEST(AtomicHistogramTest, BucketsAreUpperInclusive) {
  const std::vector<double> bounds = {1, 2, 5};
  struct Case {
    double value;
    size_t bucket;  // 3 = +Inf
  };
  const std::vector<Case> cases = {
      {-7, 0},    {0, 0},    {0.5, 0},   {1, 0}, {std::nextafter(1.0, 2.0), 1},
      {1.5, 1},   {2, 1},    {2.5, 2},   {5, 2}, {5.01, 3},
      {1e300, 3}, {kInf, 3}, {-kInf, 0},
  };
  for (const Case& c : cases) {
    std::vector<uint64_t> expected(bounds.size() + 1, 0);
    expected[c.bucket] = 1;
    EXPECT_EQ(BucketsAfter(bounds, c.value), expected) << "value " << c.value;
  }
}

TEST(AtomicHistogramTest, CollectGivesCumulativeBucketsSumAndCount) {
  AtomicHistogramFamily family("ranker_test_seconds", "Test help.", {0.1, 1, 10}, "method",
                               {"rank", "info"});
  for (double v : {0.05, 0.1, 0.5, 1.0, 3.0, 10.0, 11.0}) family.child(0).Observe(v);
  family.child(1).Observe(0.2);

  const std::vector<prometheus::MetricFamily> collected = family.Collect();
  ASSERT_EQ(collected.size(), 1u);
  const prometheus::MetricFamily& f = collected[0];
  EXPECT_EQ(f.name, "ranker_test_seconds");
  EXPECT_EQ(f.help, "Test help.");
  EXPECT_EQ(f.type, prometheus::MetricType::Histogram);
  ASSERT_EQ(f.metric.size(), 2u);

  const prometheus::ClientMetric& rank = f.metric[0];
  ASSERT_EQ(rank.label.size(), 1u);
  EXPECT_EQ(rank.label[0].name, "method");
  EXPECT_EQ(rank.label[0].value, "rank");
  EXPECT_EQ(rank.histogram.sample_count, 7u);
  EXPECT_DOUBLE_EQ(rank.histogram.sample_sum, 0.05 + 0.1 + 0.5 + 1.0 + 3.0 + 10.0 + 11.0);
  const std::vector<std::pair<double, uint64_t>> expected = {{0.1, 2}, {1, 4}, {10, 6}, {kInf, 7}};
  ASSERT_EQ(rank.histogram.bucket.size(), expected.size());
  for (size_t i = 0; i < expected.size(); ++i) {
    EXPECT_EQ(rank.histogram.bucket[i].upper_bound, expected[i].first) << i;
    EXPECT_EQ(rank.histogram.bucket[i].cumulative_count, expected[i].second) << i;
  }

  const prometheus::ClientMetric& info = f.metric[1];
  EXPECT_EQ(info.label[0].value, "info");
  EXPECT_EQ(info.histogram.sample_count, 1u);
  EXPECT_DOUBLE_EQ(info.histogram.sample_sum, 0.2);
  EXPECT_EQ(info.histogram.bucket[0].cumulative_count, 0u);
  EXPECT_EQ(info.histogram.bucket[1].cumulative_count, 1u);
}

TEST(AtomicHistogramTest, UnlabelledFamilyHasOneChildWithoutLabels) {
  AtomicHistogramFamily family("ranker_test_bytes", "Help.", {1});
  const auto collected = family.Collect();
  ASSERT_EQ(collected[0].metric.size(), 1u);
  EXPECT_TRUE(collected[0].metric[0].label.empty());
  EXPECT_EQ(collected[0].metric[0].histogram.sample_count, 0u);
  EXPECT_EQ(collected[0].metric[0].histogram.bucket.size(), 2u);
}

TEST(AtomicHistogramTest, ChildrenAddedAtRunTimeAreCollectedWithTheirLabels) {
  AtomicHistogramFamily family("ranker_test_seconds", "Help.", {1}, "", {});
  AtomicHistogram* stable = family.AddChild({{"model", "feed"}, {"version_label", "stable"}});
  AtomicHistogram* canary = family.AddChild({{"model", "feed"}, {"version_label", "canary"}});
  EXPECT_NE(stable, canary);
  // Asked again (a config reload), the same child: series never split or reset.
  EXPECT_EQ(family.AddChild({{"model", "feed"}, {"version_label", "stable"}}), stable);
  stable->Observe(0.5);
  canary->Observe(2);
  canary->Observe(3);
  const auto collected = family.Collect();
  ASSERT_EQ(collected[0].metric.size(), 2u);
  EXPECT_EQ(collected[0].metric[0].label[1].value, "stable");
  EXPECT_EQ(collected[0].metric[0].histogram.sample_count, 1u);
  EXPECT_EQ(collected[0].metric[1].label[1].value, "canary");
  EXPECT_EQ(collected[0].metric[1].histogram.sample_count, 2u);
  EXPECT_EQ(collected[0].metric[1].histogram.bucket[0].cumulative_count, 0u);  // le=1
}

TEST(AtomicHistogramTest, MatchesPrometheusCppHistogram) {
  const std::vector<double> bounds = AtomicHistogramFamily::ExponentialBounds(0.001, 2, 1);
  AtomicHistogramFamily family("x", "x", bounds);
  prometheus::Histogram reference(bounds);
  for (int i = -5; i < 3000; ++i) {
    const double v = i * 0.0005;  // hits many bounds exactly (0.001, 0.002, 0.004, ...)
    family.child(0).Observe(v);
    reference.Observe(v);
  }
  const prometheus::ClientMetric ours = family.Collect()[0].metric[0];
  const prometheus::ClientMetric theirs = reference.Collect();
  EXPECT_EQ(ours.histogram.sample_count, theirs.histogram.sample_count);
  EXPECT_NEAR(ours.histogram.sample_sum, theirs.histogram.sample_sum, 1e-9);
  ASSERT_EQ(ours.histogram.bucket.size(), theirs.histogram.bucket.size());
  for (size_t i = 0; i < ours.histogram.bucket.size(); ++i) {
    EXPECT_EQ(ours.histogram.bucket[i].upper_bound, theirs.histogram.bucket[i].upper_bound) << i;
    EXPECT_EQ(ours.histogram.bucket[i].cumulative_count,
              theirs.histogram.bucket[i].cumulative_count)
        << "bound " << ours.histogram.bucket[i].upper_bound;
  }
}

TEST(AtomicHistogramTest, ConcurrentObserversLoseNothing) {
  constexpr int kThreads = 4;
  constexpr int kPerThread = 50000;
  AtomicHistogramFamily family("x", "x", {1, 2, 3});
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    // Thread t observes t + 1 (bucket t, or +Inf for t = 3): exact in double.
    threads.emplace_back([&family, t] {
      for (int i = 0; i < kPerThread; ++i) family.child(0).Observe(t + 1.0);
    });
  }
  // Collect concurrently: each bucket only grows, so totals never go down.
  uint64_t last_count = 0;
  for (int i = 0; i < 200; ++i) {
    const prometheus::ClientMetric m = family.Collect()[0].metric[0];
    EXPECT_GE(m.histogram.sample_count, last_count);
    EXPECT_EQ(m.histogram.bucket.back().cumulative_count, m.histogram.sample_count);
    last_count = m.histogram.sample_count;
  }
  for (std::thread& thread : threads) thread.join();

  const prometheus::ClientMetric m = family.Collect()[0].metric[0];
  EXPECT_EQ(m.histogram.sample_count, uint64_t{kThreads} * kPerThread);
  EXPECT_EQ(m.histogram.sample_sum, (1.0 + 2.0 + 3.0 + 4.0) * kPerThread);
  for (int b = 0; b <= 3; ++b) {
    EXPECT_EQ(m.histogram.bucket[b].cumulative_count, uint64_t(b + 1) * kPerThread) << b;
  }
}

TEST(AtomicHistogramTest, ExponentialBounds) {
  struct Case {
    double start, factor, end;
    std::vector<double> expected;
  };
  const std::vector<Case> cases = {
      {1, 2, 8, {1, 2, 4, 8}},                // end reached exactly
      {1, 2, 10, {1, 2, 4, 8, 10}},           // end appended
      {0.001, 10, 1, {0.001, 0.01, 0.1, 1}},  // rounding does not add a second 1
      {5, 2, 5, {5}},
  };
  for (const Case& c : cases) {
    const std::vector<double> bounds =
        AtomicHistogramFamily::ExponentialBounds(c.start, c.factor, c.end);
    ASSERT_EQ(bounds.size(), c.expected.size()) << c.start << " " << c.end;
    for (size_t i = 0; i < bounds.size(); ++i) {
      EXPECT_NEAR(bounds[i], c.expected[i], c.expected[i] * 1e-12) << i;
    }
  }
  // The server's request durations: 25us doubling up to 0.8192s, then 1s.
  const std::vector<double> durations = AtomicHistogramFamily::ExponentialBounds(25e-6, 2, 1.0);
  ASSERT_EQ(durations.size(), 17u);
  EXPECT_EQ(durations.front(), 25e-6);
  EXPECT_DOUBLE_EQ(durations[15], 0.8192);
  EXPECT_EQ(durations.back(), 1.0);
}

}  // namespace
}  // namespace ranker
