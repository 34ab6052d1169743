// A log-linear latency histogram (HdrHistogram-style: 32 linear sub-buckets per power of two,
// so any reported percentile is within ~3% of the true value) over nanoseconds.
// One writer at a time; any thread may read concurrently (relaxed atomics), which lets a
// reporter show live percentiles without stopping the writers.
#ifndef RANKER_CLIENT_LATENCY_HISTOGRAM_H_
#define RANKER_CLIENT_LATENCY_HISTOGRAM_H_

#include <array>
#include <atomic>
#include <cstdint>
#include <vector>

namespace ranker {

class LatencyHistogram {
 public:
  static constexpr int kSubBits = 5;
  static constexpr int kSub = 1 << kSubBits;
  static constexpr int kBuckets = kSub * 2 + kSub * (40 - kSubBits);  // up to ~2^40 ns

  LatencyHistogram();
  void Record(uint64_t nanos);
  uint64_t count() const;

  // A plain copy for arithmetic; `Minus` gives the histogram of a time window.
  struct Counts {
    std::vector<uint64_t> buckets = std::vector<uint64_t>(kBuckets, 0);
    uint64_t total = 0;
    void Add(const Counts& other);
    Counts Minus(const Counts& earlier) const;
    // Value (ns, a bucket's upper edge) at quantile q in [0, 1]; 0 if empty.
    uint64_t Quantile(double q) const;
  };
  Counts Read() const;

  static int BucketOf(uint64_t nanos);
  static uint64_t UpperEdge(int bucket);

 private:
  std::array<std::atomic<uint64_t>, kBuckets> buckets_;
};

}  // namespace ranker

#endif  // RANKER_CLIENT_LATENCY_HISTOGRAM_H_
