#include "server/server_metrics.h"

#include <prometheus/gauge.h>

#include <string>

#include "absl/strings/str_cat.h"
#include "common/grpc_status.h"

#ifndef RANKER_VERSION
#define RANKER_VERSION "unknown"
#endif
#ifndef RANKER_COMMIT
#define RANKER_COMMIT "unknown"
#endif

namespace ranker {
const char* RpcMethodName(RpcMethod method) {
  switch (method) {
    case RpcMethod::kRank:
      return "Rank";
    case RpcMethod::kGetModelInfo:
      return "GetModelInfo";
    case RpcMethod::kReload:
      return "Reload";
    case RpcMethod::kListLoadedVersions:
      return "ListLoadedVersions";
    case RpcMethod::kRecord:
      return "Record";
    case RpcMethod::kRecordStream:
      return "RecordStream";
    case RpcMethod::kListModels:
      return "ListModels";
    case RpcMethod::kSetLabel:
      return "SetLabel";
    case RpcMethod::kReloadConfig:
      return "ReloadConfig";
  }
  return "unknown";
}

ServerMetrics::ServerMetrics()
    : registry_(std::make_shared<prometheus::Registry>()),
      process_(std::make_shared<ProcessMetrics>()) {
  std::vector<std::string> methods;
  for (int m = 0; m < kMethods; ++m) methods.push_back(RpcMethodName(static_cast<RpcMethod>(m)));

  auto& requests = prometheus::BuildCounter()
                       .Name("ranker_requests_total")
                       .Help("RPCs handled, by method and gRPC status code.")
                       .Register(*registry_);
  for (int m = 0; m < kMethods; ++m) {
    for (int c = 0; c < kCodes; ++c) {
      requests_[m][c] = &requests.Add(
          {{"method", methods[m]}, {"code", StatusCodeName(static_cast<grpc::StatusCode>(c))}});
    }
  }
  durations_ = std::make_shared<AtomicHistogramFamily>(
      "ranker_request_duration_seconds", "Time to handle an RPC in the server, by method.",
      AtomicHistogramFamily::ExponentialBounds(25e-6, 2, 1.0), "method", methods);
  const std::vector<double> item_counts = {1,    10,   20,    50,    100,   200,    500, 1000,
                                           2000, 5000, 10000, 20000, 50000, 100000, 1e6, 1e7};
  candidates_ = std::make_shared<AtomicHistogramFamily>(
      "ranker_rank_candidates",
      "Candidates per Rank call (the catalogue size when none are given).", item_counts);
  scored_items_ = std::make_shared<AtomicHistogramFamily>(
      "ranker_rank_scored_items",
      "Items the RankNet scorer scored per Rank call (after retrieval when two stages ran).",
      item_counts);
  auto& stages = prometheus::BuildCounter()
                     .Name("ranker_rank_stages_total")
                     .Help(
                         "Rank calls by what ranked them: one (the scorer over every "
                         "candidate), two (retrieval by the dot-product term, then the scorer "
                         "over the retrieved), popularity.")
                     .Register(*registry_);
  one_stage_ = &stages.Add({{"stages", "one"}});
  two_stages_ = &stages.Add({{"stages", "two"}});
  popularity_stage_ = &stages.Add({{"stages", "popularity"}});
  reload_durations_ = std::make_shared<AtomicHistogramFamily>(
      "ranker_model_reload_duration_seconds",
      "Time to load, verify and warm up a model version (successful or not).",
      AtomicHistogramFamily::ExponentialBounds(0.001, 2, 512));
  // Per model and label: children appear as routes are configured (server/model_registry.h).
  route_durations_ = std::make_shared<AtomicHistogramFamily>(
      "ranker_model_request_duration_seconds",
      "Time to handle a Rank call that reached a model, by model and version label (empty: the "
      "newest version).",
      AtomicHistogramFamily::ExponentialBounds(25e-6, 2, 1.0), "", std::vector<std::string>{});
  route_requests_ = &prometheus::BuildCounter()
                         .Name("ranker_model_requests_total")
                         .Help(
                             "Rank calls that reached a model, by model, version label and gRPC "
                             "status code.")
                         .Register(*registry_);

  auto& history_lookups =
      prometheus::BuildCounter()
          .Name("ranker_history_lookups_total")
          .Help("Stored-history reads for history-model requests without history ids, by result.")
          .Register(*registry_);
  for (int r = 0; r < kHistoryLookupCount; ++r) {
    history_lookups_[r] =
        &history_lookups.Add({{"result", HistoryLookupName(static_cast<HistoryLookup>(r))}});
  }

  auto& unknown = prometheus::BuildCounter()
                      .Name("ranker_unknown_ids_total")
                      .Help("Ids outside the model's vocabulary, scored with the fallback row.")
                      .Register(*registry_);
  unknown_users_ = &unknown.Add({{"table", "user"}});
  unknown_items_ = &unknown.Add({{"table", "item"}});

  model_version_ = &prometheus::BuildGauge()
                        .Name("ranker_model_version")
                        .Help("Version of the model serving unpinned requests (0 = none).")
                        .Register(*registry_)
                        .Add({});
  loaded_timestamp_ = &prometheus::BuildGauge()
                           .Name("ranker_model_loaded_timestamp_seconds")
                           .Help("Unix time the current model version was loaded.")
                           .Register(*registry_)
                           .Add({});
  auto& reloads = prometheus::BuildCounter()
                      .Name("ranker_model_reloads_total")
                      .Help("Model load attempts by result: success, failure, store_error.")
                      .Register(*registry_);
  reload_success_ = &reloads.Add({{"result", "success"}});
  reload_failure_ = &reloads.Add({{"result", "failure"}});
  reload_store_error_ = &reloads.Add({{"result", "store_error"}});
  memory_family_ = &prometheus::BuildGauge()
                        .Name("ranker_model_memory_bytes")
                        .Help(
                            "Resident bytes of each loaded model version by table (user and "
                            "item include their id maps; mlp is the scorer).")
                        .Register(*registry_);
  uncompressed_family_ = &prometheus::BuildGauge()
                              .Name("ranker_model_uncompressed_bytes")
                              .Help("Bytes the same model would take with full fp32 tables.")
                              .Register(*registry_);
  ratio_family_ = &prometheus::BuildGauge()
                       .Name("ranker_model_compression_ratio")
                       .Help("Full fp32 tables' size over this model's tables as stored.")
                       .Register(*registry_);
  prometheus::BuildGauge()
      .Name("ranker_build_info")
      .Help("Build of the running server (always 1).")
      .Register(*registry_)
      .Add({{"version", RANKER_VERSION}, {"commit", RANKER_COMMIT}})
      .Set(1);
}

std::vector<std::shared_ptr<prometheus::Collectable>> ServerMetrics::collectables() const {
  return {registry_,         durations_,       candidates_, scored_items_,
          reload_durations_, route_durations_, process_};
}

namespace {

class RouteMetrics final : public RouteObserver {
 public:
  RouteMetrics(std::array<prometheus::Counter*, kGrpcStatusCodeCount> requests,
               AtomicHistogram* durations)
      : requests_(requests), durations_(durations) {}
  void OnRank(grpc::StatusCode code, double seconds) override {
    const int c = static_cast<int>(code);
    if (c >= 0 && c < kGrpcStatusCodeCount) requests_[c]->Increment();
    durations_->Observe(seconds);
  }

 private:
  const std::array<prometheus::Counter*, kGrpcStatusCodeCount> requests_;
  AtomicHistogram* const durations_;
};

}  // namespace

std::shared_ptr<RouteObserver> ServerMetrics::ForRoute(const std::string& model,
                                                       const std::string& label) {
  MutexLock lock(&mu_);
  std::shared_ptr<RouteObserver>& route = routes_[{model, label}];
  if (route == nullptr) {
    std::array<prometheus::Counter*, kGrpcStatusCodeCount> requests{};
    for (int c = 0; c < kGrpcStatusCodeCount; ++c) {
      requests[c] =
          &route_requests_->Add({{"model", model},
                                 {"version_label", label},
                                 {"code", StatusCodeName(static_cast<grpc::StatusCode>(c))}});
    }
    route = std::make_shared<RouteMetrics>(
        requests, route_durations_->AddChild({{"model", model}, {"version_label", label}}));
  }
  return route;
}

void ServerMetrics::OnRequest(RpcMethod method, grpc::StatusCode code, double seconds) {
  const int m = static_cast<int>(method);
  const int c = static_cast<int>(code);
  if (m < 0 || m >= kMethods || c < 0 || c >= kCodes) return;
  requests_[m][c]->Increment();
  durations_->child(m).Observe(seconds);
}

void ServerMetrics::OnRank(size_t candidates, const RankResult& stats) {
  candidates_->child(0).Observe(static_cast<double>(candidates));
  scored_items_->child(0).Observe(static_cast<double>(stats.ranked));
  if (stats.popularity) {
    popularity_stage_->Increment();
  } else if (stats.retrieval_scored > 0) {
    two_stages_->Increment();
  } else {
    one_stage_->Increment();
  }
  if (stats.unknown_users > 0) unknown_users_->Increment(stats.unknown_users);
  if (stats.unknown_items > 0) unknown_items_->Increment(stats.unknown_items);
}

void ServerMetrics::OnHistoryLookup(HistoryLookup result) {
  const int r = static_cast<int>(result);
  if (r >= 0 && r < kHistoryLookupCount) history_lookups_[r]->Increment();
}

void ServerMetrics::OnReload(const ReloadEvent& event, const std::vector<LoadedVersion>& loaded,
                             const Model* current) {
  switch (event.result) {
    case ReloadEvent::Result::kLoaded:
      reload_success_->Increment();
      break;
    case ReloadEvent::Result::kFailed:
      reload_failure_->Increment();
      break;
    case ReloadEvent::Result::kStoreError:
      reload_store_error_->Increment();
      break;
    case ReloadEvent::Result::kNoChange:
      break;
  }
  if (event.result == ReloadEvent::Result::kLoaded ||
      event.result == ReloadEvent::Result::kFailed) {
    reload_durations_->child(0).Observe(event.seconds);
  }
  model_version_->Set(current != nullptr ? static_cast<double>(current->version()) : 0);

  if (current != nullptr) {
    for (const LoadedVersion& entry : loaded) {
      if (entry.version == current->version()) {
        loaded_timestamp_->Set(static_cast<double>(entry.loaded_unix_seconds));
      }
    }
  }
}

void ServerMetrics::OnModelVersions(const std::string& model,
                                    const std::vector<LoadedVersion>& loaded) {
  MutexLock lock(&mu_);
  // Per-version gauges exist exactly for the loaded versions of configured models, so label
  // sets stay bounded.
  std::map<uint64_t, const LoadedVersion*> now;
  for (const LoadedVersion& entry : loaded) now[entry.version] = &entry;
  for (auto it = version_gauges_.lower_bound({model, 0});
       it != version_gauges_.end() && it->first.first == model;) {
    auto loaded_now = now.find(it->first.second);
    // Gone, or another model under the same number (the model moved to another store).
    if (loaded_now == now.end() || loaded_now->second->model.get() != it->second.model) {
      for (prometheus::Gauge* gauge : it->second.memory) memory_family_->Remove(gauge);
      uncompressed_family_->Remove(it->second.uncompressed);
      ratio_family_->Remove(it->second.ratio);
      it = version_gauges_.erase(it);
    } else {
      ++it;
    }
  }
  for (const auto& [version, entry] : now) {
    if (version_gauges_.count({model, version}) > 0) continue;
    const Model& loaded_model = *entry->model;
    const std::string v = absl::StrCat(version);
    // One memory series per feature table (as named in the manifest) and one for the MLP.
    VersionGauges gauges;
    for (const Feature& feature : loaded_model.features()) {
      gauges.memory.push_back(
          &memory_family_->Add({{"model", model}, {"version", v}, {"table", feature.name}}));
      gauges.memory.back()->Set(static_cast<double>(loaded_model.table_resident_bytes(feature)));
    }
    gauges.memory.push_back(
        &memory_family_->Add({{"model", model}, {"version", v}, {"table", "mlp"}}));
    gauges.memory.back()->Set(static_cast<double>(loaded_model.scorer().resident_bytes()));
    gauges.uncompressed = &uncompressed_family_->Add({{"model", model}, {"version", v}});
    gauges.uncompressed->Set(static_cast<double>(loaded_model.uncompressed_bytes()));
    gauges.ratio = &ratio_family_->Add({{"model", model}, {"version", v}});
    gauges.ratio->Set(loaded_model.compression_ratio());
    gauges.model = &loaded_model;
    version_gauges_[{model, version}] = std::move(gauges);
  }
}

}  // namespace ranker
