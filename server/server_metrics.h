// Every metric the server exports (names as in docs and DESIGN.md, base units), created once at
// start-up; the request path only touches pre-built children (atomic increments, no lookups,
// no locks). Thread-safe.
//
//   ranker_requests_total{method,code}            counter
//   ranker_request_duration_seconds{method}       histogram, 25 us .. ~1 s
//   ranker_rank_candidates                        histogram of candidates per Rank (the
//                                                 catalogue size when none are given)
//   ranker_rank_scored_items                      histogram of items the RankNet scorer
//                                                 scored per Rank (after retrieval)
//   ranker_rank_stages_total{stages}              counter: one, two (retrieval, then the
//                                                 scorer), popularity
//   ranker_unknown_ids_total{table}               counter (user, item)
//   ranker_history_lookups_total{result}          counter: stored-history reads by history
//                                                 models (found, absent, unavailable, error)
//   ranker_model_version                          gauge, the current version (0 = none)
//   ranker_model_loaded_timestamp_seconds         gauge, when the current version was loaded
//   ranker_model_reloads_total{result}            counter: success, failure, store_error
//   ranker_model_reload_duration_seconds          histogram of load + verify + warm-up time
//   ranker_model_memory_bytes{version,table}      gauge per loaded version: user, item, mlp
//   ranker_model_uncompressed_bytes{version}      gauge: the same model with full fp32 tables
//   ranker_model_compression_ratio{version}       gauge: embedding parameters full / actual
//   ranker_build_info{version,commit}             gauge = 1
//   process_*                                     from /proc (see process_metrics.h)
#ifndef RANKER_SERVER_SERVER_METRICS_H_
#define RANKER_SERVER_SERVER_METRICS_H_

#include <prometheus/counter.h>
#include <prometheus/family.h>
#include <prometheus/gauge.h>
#include <prometheus/registry.h>

#include <array>
#include <map>
#include <memory>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "common/grpc_status.h"
#include "common/mutex.h"
#include "server/atomic_histogram.h"
#include "server/model_manager.h"
#include "server/process_metrics.h"
#include "server/request_observer.h"

namespace ranker {

class ServerMetrics final : public RequestObserver {
 public:
  static constexpr int kMethods = 9;  // RpcMethod values
  static constexpr int kCodes = kGrpcStatusCodeCount;

  ServerMetrics();

  // Everything above, for an Exposer (or a test) to collect.
  std::vector<std::shared_ptr<prometheus::Collectable>> collectables() const;

  void OnRequest(RpcMethod method, grpc::StatusCode code, double seconds) override;
  // ranker_model_requests_total{model,version_label,code} and
  // ranker_model_request_duration_seconds{model,version_label}: one set per configured route
  // (bounded by the model config; asked for again after a reload, the same set is returned).
  std::shared_ptr<RouteObserver> ForRoute(const std::string& model,
                                          const std::string& label) override;
  void OnRank(size_t candidates, const RankResult& result) override;
  void OnHistoryLookup(HistoryLookup result) override;
  // After each reload attempt of the default model: counts it and sets the version gauges.
  void OnReload(const ReloadEvent& event, const std::vector<LoadedVersion>& loaded,
                const Model* current);
  // After any model's reload (every configured model, so memory counts them all): the
  // per-version gauges (memory by table, uncompressed bytes, ratio) of `model` become those of
  // `loaded`; an empty `loaded` removes the model's series (a model removed from the config).
  void OnModelVersions(const std::string& model, const std::vector<LoadedVersion>& loaded);

 private:
  std::shared_ptr<prometheus::Registry> registry_;
  std::shared_ptr<AtomicHistogramFamily> durations_;
  std::shared_ptr<AtomicHistogramFamily> candidates_;
  std::shared_ptr<AtomicHistogramFamily> scored_items_;
  std::shared_ptr<AtomicHistogramFamily> reload_durations_;
  std::shared_ptr<AtomicHistogramFamily> route_durations_;
  prometheus::Family<prometheus::Counter>* route_requests_;
  std::shared_ptr<ProcessMetrics> process_;

  std::array<std::array<prometheus::Counter*, kCodes>, kMethods> requests_{};
  prometheus::Counter* unknown_users_;
  prometheus::Counter* unknown_items_;
  std::array<prometheus::Counter*, kHistoryLookupCount> history_lookups_{};
  prometheus::Counter* one_stage_;
  prometheus::Counter* two_stages_;
  prometheus::Counter* popularity_stage_;
  prometheus::Gauge* model_version_;
  prometheus::Gauge* loaded_timestamp_;
  prometheus::Counter* reload_success_;
  prometheus::Counter* reload_failure_;
  prometheus::Counter* reload_store_error_;
  prometheus::Family<prometheus::Gauge>* memory_family_;
  prometheus::Family<prometheus::Gauge>* uncompressed_family_;
  prometheus::Family<prometheus::Gauge>* ratio_family_;

  Mutex mu_;  // reload bookkeeping only; never taken on the request path
  struct VersionGauges {
    std::vector<prometheus::Gauge*> memory;  // one per feature table, then the MLP
    prometheus::Gauge* uncompressed = nullptr;
    prometheus::Gauge* ratio = nullptr;
    const Model* model = nullptr;  // the loaded model they describe
  };
  std::map<std::pair<std::string, uint64_t>, VersionGauges> version_gauges_ ABSL_GUARDED_BY(mu_);
  std::map<std::pair<std::string, std::string>, std::shared_ptr<RouteObserver>> routes_
      ABSL_GUARDED_BY(mu_);
};

const char* RpcMethodName(RpcMethod method);

}  // namespace ranker

#endif  // RANKER_SERVER_SERVER_METRICS_H_
