// The exposure log's counters for Prometheus, read from ExposureLog::stats() at each scrape:
// ranker_exposures_logged_total, ranker_exposures_dropped_total (the writer's queue was full),
// ranker_exposure_write_errors_total.
#ifndef RANKER_SERVER_EXPOSURE_METRICS_H_
#define RANKER_SERVER_EXPOSURE_METRICS_H_

#include <vector>

#include "exposures/exposure_log.h"
#include "prometheus/collectable.h"
#include "prometheus/metric_family.h"

namespace ranker {

class ExposureMetrics final : public prometheus::Collectable {
 public:
  explicit ExposureMetrics(const ExposureLog* log) : log_(log) {}  // `log` outlives this
  std::vector<prometheus::MetricFamily> Collect() const override;

 private:
  const ExposureLog* log_;
};

}  // namespace ranker

#endif  // RANKER_SERVER_EXPOSURE_METRICS_H_
