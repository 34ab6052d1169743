// A closed-loop load generator: `concurrency` calls in flight at all times, for a fixed
// duration, recording every latency in per-thread histograms. Two client APIs: "async" (the
// default) drives all calls from `client_threads` threads, each with its own completion queue,
// so on a machine whose cores the server shares the client's own CPU stays small; "sync" runs
// one thread per call with blocking stubs (what bench did before; kept to compare). A reporter
// prints a progress line per interval with that interval's throughput and percentiles. Used by
// `ranker-client bench`.
#ifndef RANKER_CLIENT_LOAD_GENERATOR_H_
#define RANKER_CLIENT_LOAD_GENERATOR_H_

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "absl/time/time.h"
#include "client/channel.h"
#include "client/latency_histogram.h"

namespace ranker {

struct LoadGeneratorOptions {
  std::string target = "localhost:50051";
  ClientTlsFiles tls;         // checked by the caller (MakeChannelCredentials)
  ClientBalancing balancing;  // checked by the caller (ServiceConfigJson)
  std::string rpc = "rank";   // "rank" or "empty" (the health check: the floor to compare with)
  int concurrency = 8;
  std::string api = "async";  // "async" (completion queues) or "sync" (a blocking thread per call)
  int client_threads = 1;     // async: threads polling completion queues
  absl::Duration duration = absl::Seconds(10);
  absl::Duration warmup = absl::Seconds(1);  // calls made but not recorded
  int candidates = 100;                      // 0 = whole catalogue
  uint32_t k = 10;
  uint32_t retrieve_n = 0;  // RankRequest.retrieve_n (0 = server default)
  uint64_t users = 100000;
  uint64_t items = 10000;  // candidate ids are drawn from [0, items)
  int channels = 2;
  uint64_t seed = 1;
  absl::Duration deadline = absl::Seconds(5);
  absl::Duration report_interval = absl::Seconds(1);  // 0 = no progress lines
};

struct IntervalReport {
  double elapsed_seconds;
  double qps;
  uint64_t errors;
  uint64_t p50_ns, p99_ns, max_ns;
};

struct LoadResult {
  double seconds = 0;
  uint64_t calls = 0;  // successful, after warm-up
  double qps = 0;
  LatencyHistogram::Counts latency;
  std::map<std::string, uint64_t> errors;  // by status code name
  std::vector<IntervalReport> intervals;
};

// Runs the load; `on_interval` (if set) is called from the reporter thread.
// Threads that make the calls: one per call in flight (sync) or client_threads (async).
int ClientThreads(const LoadGeneratorOptions& options);
// INVALID_ARGUMENT-style message for options RunLoad cannot run, or "".
std::string CheckLoadOptions(const LoadGeneratorOptions& options);
// Runs the load; `on_interval` (if set) is called from the reporter thread. REQUIRES:
// CheckLoadOptions(options) is "".
LoadResult RunLoad(const LoadGeneratorOptions& options,
                   const std::function<void(const IntervalReport&)>& on_interval);

}  // namespace ranker

#endif  // RANKER_CLIENT_LOAD_GENERATOR_H_
