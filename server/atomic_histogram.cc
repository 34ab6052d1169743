#include "server/atomic_histogram.h"

#include <prometheus/client_metric.h>
#include <prometheus/metric_family.h>

#include <algorithm>
#include <cmath>
#include <limits>

namespace ranker {

AtomicHistogram::AtomicHistogram(const std::vector<double>* bounds)
    : bounds_(bounds), buckets_(new std::atomic<uint64_t>[bounds->size() + 1]) {
  for (size_t i = 0; i <= bounds->size(); ++i) buckets_[i].store(0);
}

void AtomicHistogram::Observe(double value) {
  // Prometheus buckets are "less than or equal": the first bound >= value.
  const size_t bucket = static_cast<size_t>(
      std::lower_bound(bounds_->begin(), bounds_->end(), value) - bounds_->begin());
  buckets_[bucket].fetch_add(1, std::memory_order_relaxed);
  sum_.fetch_add(value, std::memory_order_relaxed);
}

void AtomicHistogram::Snapshot(std::vector<uint64_t>* cumulative, double* sum,
                               uint64_t* count) const {
  cumulative->resize(bounds_->size() + 1);
  uint64_t running = 0;
  for (size_t i = 0; i <= bounds_->size(); ++i) {
    running += buckets_[i].load(std::memory_order_relaxed);
    (*cumulative)[i] = running;
  }
  *count = running;
  *sum = sum_.load(std::memory_order_relaxed);
}

AtomicHistogramFamily::AtomicHistogramFamily(std::string name, std::string help,
                                             std::vector<double> bounds, std::string label_name,
                                             std::vector<std::string> label_values)
    : name_(std::move(name)), help_(std::move(help)), bounds_(std::move(bounds)) {
  for (const std::string& value : label_values) {
    Child child;
    if (!label_name.empty()) child.labels.push_back({label_name, value});
    child.histogram = std::make_unique<AtomicHistogram>(&bounds_);
    fixed_.push_back(std::move(child));
  }
}

AtomicHistogram* AtomicHistogramFamily::AddChild(
    std::vector<std::pair<std::string, std::string>> labels) {
  MutexLock lock(&mu_);
  for (const Child& child : added_) {
    if (child.labels == labels) return child.histogram.get();
  }
  added_.push_back({std::move(labels), std::make_unique<AtomicHistogram>(&bounds_)});
  return added_.back().histogram.get();
}

std::vector<prometheus::MetricFamily> AtomicHistogramFamily::Collect() const {
  prometheus::MetricFamily family;
  family.name = name_;
  family.help = help_;
  family.type = prometheus::MetricType::Histogram;
  std::vector<uint64_t> cumulative;
  MutexLock lock(&mu_);
  std::vector<const Child*> children;
  for (const Child& child : fixed_) children.push_back(&child);
  for (const Child& child : added_) children.push_back(&child);
  for (const Child* child_ptr : children) {
    const Child& child = *child_ptr;
    prometheus::ClientMetric metric;
    for (const auto& [name, value] : child.labels) metric.label.push_back({name, value});
    double sum = 0;
    uint64_t count = 0;
    child.histogram->Snapshot(&cumulative, &sum, &count);
    metric.histogram.sample_count = count;
    metric.histogram.sample_sum = sum;
    for (size_t b = 0; b < bounds_.size(); ++b) {
      metric.histogram.bucket.push_back({cumulative[b], bounds_[b]});
    }
    metric.histogram.bucket.push_back({count, std::numeric_limits<double>::infinity()});
    family.metric.push_back(std::move(metric));
  }
  return {family};
}

std::vector<double> AtomicHistogramFamily::ExponentialBounds(double start, double factor,
                                                             double end) {
  std::vector<double> bounds;
  for (double b = start; b <= end * (1 + 1e-9); b *= factor) bounds.push_back(b);
  if (bounds.empty() || std::abs(bounds.back() - end) > end * 1e-9) bounds.push_back(end);
  return bounds;
}

}  // namespace ranker
