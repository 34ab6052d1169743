// A Prometheus histogram family with a fixed set of label values, updated with relaxed atomics
// only, so Observe() on the request path takes no lock (prometheus-cpp 1.0's Histogram locks a
// mutex per observation). Children exist from construction; Collect() produces the usual
// cumulative _bucket/_sum/_count series. Thread-safe.
#ifndef RANKER_SERVER_ATOMIC_HISTOGRAM_H_
#define RANKER_SERVER_ATOMIC_HISTOGRAM_H_

#include <prometheus/collectable.h>

#include <atomic>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "common/mutex.h"

namespace ranker {

class AtomicHistogram {
 public:
  explicit AtomicHistogram(const std::vector<double>* bounds);
  void Observe(double value);
  // Cumulative bucket counts (one per bound, then +Inf), sum and count, read without a lock.
  void Snapshot(std::vector<uint64_t>* cumulative, double* sum, uint64_t* count) const;

 private:
  const std::vector<double>* bounds_;
  std::unique_ptr<std::atomic<uint64_t>[]> buckets_;  // bounds + 1 (+Inf), not cumulative
  std::atomic<double> sum_{0};
};

class AtomicHistogramFamily : public prometheus::Collectable {
 public:
  // One child per value of `label_values` (label `label_name`); no label if label_name is empty.
  AtomicHistogramFamily(std::string name, std::string help, std::vector<double> bounds,
                        std::string label_name = "", std::vector<std::string> label_values = {""});

  // REQUIRES: index < number of label values given to the constructor.
  AtomicHistogram& child(size_t index) { return *fixed_[index].histogram; }
  // A child with these labels, added (under a mutex, never taken by Observe) for label sets that
  // appear at run time and stay bounded (e.g. one per configured model and label). The returned
  // histogram lives as long as the family.
  AtomicHistogram* AddChild(std::vector<std::pair<std::string, std::string>> labels);
  std::vector<prometheus::MetricFamily> Collect() const override;

  // Bounds start, start*factor, ... while <= end, then end itself if not already there.
  static std::vector<double> ExponentialBounds(double start, double factor, double end);

 private:
  struct Child {
    std::vector<std::pair<std::string, std::string>> labels;
    std::unique_ptr<AtomicHistogram> histogram;
  };
  std::string name_, help_;
  std::vector<double> bounds_;
  std::vector<Child> fixed_;  // the constructor's: never change afterwards
  mutable Mutex mu_;          // guards added_; never taken by Observe
  std::vector<Child> added_ ABSL_GUARDED_BY(mu_);
};

}  // namespace ranker

#endif  // RANKER_SERVER_ATOMIC_HISTOGRAM_H_
