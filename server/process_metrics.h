// The standard process_* metrics, read from /proc/self at each scrape (prometheus-cpp 1.0 has
// no process collector): resident and virtual memory, CPU seconds, start time, open and max fds.
#ifndef RANKER_SERVER_PROCESS_METRICS_H_
#define RANKER_SERVER_PROCESS_METRICS_H_

#include <prometheus/collectable.h>

#include <cstdint>
#include <optional>

namespace ranker {

struct ProcessStats {
  double resident_bytes = 0;
  double virtual_bytes = 0;
  double cpu_seconds = 0;
  double start_time_seconds = 0;  // Unix time
  double open_fds = 0;
  double max_fds = 0;
};

// Reads /proc/self; nullopt if /proc is unavailable.
std::optional<ProcessStats> ReadProcessStats();

class ProcessMetrics : public prometheus::Collectable {
 public:
  std::vector<prometheus::MetricFamily> Collect() const override;
};

}  // namespace ranker

#endif  // RANKER_SERVER_PROCESS_METRICS_H_
