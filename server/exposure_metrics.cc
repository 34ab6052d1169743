#include "server/exposure_metrics.h"

#include <string>

namespace ranker {
namespace {

prometheus::MetricFamily Counter(std::string name, std::string help, double value) {
  prometheus::MetricFamily family;
  family.name = std::move(name);
  family.help = std::move(help);
  family.type = prometheus::MetricType::Counter;
  prometheus::ClientMetric metric;
  metric.counter.value = value;
  family.metric.push_back(std::move(metric));
  return family;
}

}  // namespace

std::vector<prometheus::MetricFamily> ExposureMetrics::Collect() const {
  const ExposureLog::Stats stats = log_->stats();
  return {
      Counter("ranker_exposures_logged_total",
              "Sampled Rank responses written to the exposure log.",
              static_cast<double>(stats.logged)),
      Counter("ranker_exposures_dropped_total",
              "Sampled Rank responses dropped: the exposure log's queue was full, or the batch "
              "could not be published to the exposure stream.",
              static_cast<double>(stats.dropped)),
      Counter("ranker_exposure_write_errors_total", "Batches of exposures the log could not write.",
              static_cast<double>(stats.write_errors))};
}

}  // namespace ranker
