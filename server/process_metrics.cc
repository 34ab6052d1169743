#include "server/process_metrics.h"

#include <prometheus/client_metric.h>
#include <prometheus/metric_family.h>
#include <sys/resource.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

namespace ranker {
namespace {

double BootTimeSeconds() {
  std::ifstream stat("/proc/stat");
  std::string key;
  double value = 0;
  while (stat >> key) {
    if (key == "btime") {
      stat >> value;
      return value;
    }
    stat.ignore(1 << 16, '\n');
  }
  return 0;
}

prometheus::MetricFamily Gauge(const char* name, const char* help, double value,
                               prometheus::MetricType type = prometheus::MetricType::Gauge) {
  prometheus::MetricFamily family;
  family.name = name;
  family.help = help;
  family.type = type;
  prometheus::ClientMetric metric;
  if (type == prometheus::MetricType::Counter) {
    metric.counter.value = value;
  } else {
    metric.gauge.value = value;
  }
  family.metric.push_back(metric);
  return family;
}

}  // namespace

std::optional<ProcessStats> ReadProcessStats() {
  std::ifstream stat_file("/proc/self/stat");
  std::string line;
  if (!std::getline(stat_file, line)) return std::nullopt;
  // Fields after the command name (which may contain spaces) start at field 3.
  const size_t close = line.rfind(')');
  if (close == std::string::npos) return std::nullopt;
  std::istringstream fields(line.substr(close + 2));
  std::vector<std::string> f;
  for (std::string token; fields >> token;) f.push_back(token);
  if (f.size() < 22) return std::nullopt;
  const double ticks = static_cast<double>(sysconf(_SC_CLK_TCK));
  const double page = static_cast<double>(sysconf(_SC_PAGESIZE));
  ProcessStats stats;
  // f[0] is field 3 (state): utime = field 14, stime = 15, starttime = 22, vsize = 23, rss = 24.
  stats.cpu_seconds = (std::stod(f[11]) + std::stod(f[12])) / ticks;
  stats.start_time_seconds = BootTimeSeconds() + std::stod(f[19]) / ticks;
  stats.virtual_bytes = std::stod(f[20]);
  stats.resident_bytes = std::stod(f[21]) * page;
  std::error_code ec;
  double fds = 0;
  for (auto it = std::filesystem::directory_iterator("/proc/self/fd", ec);
       !ec && it != std::filesystem::directory_iterator(); it.increment(ec)) {
    ++fds;
  }
  stats.open_fds = fds;
  struct rlimit limit;
  if (getrlimit(RLIMIT_NOFILE, &limit) == 0) stats.max_fds = static_cast<double>(limit.rlim_cur);
  return stats;
}

std::vector<prometheus::MetricFamily> ProcessMetrics::Collect() const {
  std::optional<ProcessStats> stats = ReadProcessStats();
  if (!stats) return {};
  return {
      Gauge("process_resident_memory_bytes", "Resident memory size in bytes.",
            stats->resident_bytes),
      Gauge("process_virtual_memory_bytes", "Virtual memory size in bytes.", stats->virtual_bytes),
      Gauge("process_cpu_seconds_total", "Total user and system CPU time spent in seconds.",
            stats->cpu_seconds, prometheus::MetricType::Counter),
      Gauge("process_start_time_seconds", "Start time of the process since unix epoch in seconds.",
            stats->start_time_seconds),
      Gauge("process_open_fds", "Number of open file descriptors.", stats->open_fds),
      Gauge("process_max_fds", "Maximum number of open file descriptors.", stats->max_fds),
  };
}

}  // namespace ranker
