// The models a server serves, by name (proto/model_config.proto): each with its own
// ModelManager (store, versions, reloads), its labels and its traffic split. A request resolves
// to one route (model, version, and the label or split arm that chose it) against one immutable
// routing table, read with an atomic load; a label move or a new config swaps in a whole new
// table, so every call sees the old routing or the new one, never a mix.
//
// Thread-safe. Resolve never blocks on a load; SetLabel and Apply are serialised.
#ifndef RANKER_SERVER_MODEL_REGISTRY_H_
#define RANKER_SERVER_MODEL_REGISTRY_H_

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "common/mutex.h"
#include "model/model.h"
#include "proto/model_config.pb.h"
#include "server/model_manager.h"
#include "server/request_observer.h"
#include "server/traffic_split.h"

namespace ranker {

// One configured model, immutable once routed.
struct ServedModel {
  config::ModelConfig config;
  std::shared_ptr<ModelManager> manager;
  std::map<std::string, uint64_t> labels;
  TrafficSplitter split{config::TrafficSplit()};
  // Per label ("" for the newest version), from RequestObserver::ForRoute; may be null.
  std::map<std::string, std::shared_ptr<RouteObserver>, std::less<>> observers;
};

struct ModelRoute {
  std::shared_ptr<const Model> model;
  std::shared_ptr<const ServedModel> served;  // keeps the name and label alive
  std::string label;  // the label asked for or the split arm; empty: the newest version
  bool from_split = false;
  // Null when the route is not observed, and for calls that pin a version by number (their
  // label would be empty, which the metrics reserve for the newest version).
  std::shared_ptr<RouteObserver> observer;
};

class ModelRegistry {
 public:
  // Makes the manager of one model: opens its store, polls once, starts its watcher.
  using ManagerFactory =
      std::function<absl::StatusOr<std::shared_ptr<ModelManager>>(const config::ModelConfig&)>;

  // Opens every model of `config` (which passed CheckModelConfig) and checks that each label
  // names a loaded version. Errors name the model: a store that cannot be opened (the factory's
  // error), a label whose version is not loaded (FAILED_PRECONDITION).
  // `observer` (may be null; must outlive the registry) gives each route its RouteObserver.
  static absl::StatusOr<std::unique_ptr<ModelRegistry>> Create(
      const config::ModelConfigList& config, ManagerFactory factory,
      RequestObserver* observer = nullptr);
  // One model, "default", served by `manager` (not owned: it must outlive the registry), with
  // no labels; Apply is refused. For tests and tools that hold a manager.
  static std::unique_ptr<ModelRegistry> ForManager(ModelManager* manager);

  // The route of a request: `model` empty = the default model (NOT_FOUND for an unknown one);
  // `version` pins a loaded version (NOT_FOUND otherwise), `label` a labelled one (NOT_FOUND
  // for an unknown label), both at once INVALID_ARGUMENT; neither: the split's arm for
  // `user_id`, or the newest version. UNAVAILABLE before the model has a version loaded.
  absl::StatusOr<ModelRoute> Resolve(absl::string_view model, uint64_t version,
                                     absl::string_view label, uint64_t user_id) const;
  // As Resolve, ignoring the split (the newest version when neither is given): what
  // GetModelInfo describes.
  absl::StatusOr<ModelRoute> ResolveUnsplit(absl::string_view model, uint64_t version,
                                            absl::string_view label) const;

  // Points `label` of `model` at `version` (adding the label), atomically; returns the version
  // it named before (0: a new label). NOT_FOUND: no such model; FAILED_PRECONDITION: the
  // version is not loaded.
  absl::StatusOr<uint64_t> SetLabel(const std::string& model, const std::string& label,
                                    uint64_t version);

  // Serves `config` instead: models kept with the same store reuse their manager, new ones are
  // opened and loaded before they are routable, removed ones stop being routed (calls in flight
  // finish on the versions they hold). On any error nothing changes.
  absl::Status Apply(const config::ModelConfigList& config);

  // The models, in config order, and the default's name.
  std::vector<std::shared_ptr<const ServedModel>> Models() const;
  std::string DefaultModel() const;
  // The default model's manager (health, the single-model metrics and admin calls follow it).
  std::shared_ptr<ModelManager> DefaultManager() const;

  void StopWatchers();

 private:
  struct Routes {
    std::vector<std::shared_ptr<const ServedModel>> models;
    std::map<std::string, std::shared_ptr<const ServedModel>, std::less<>> by_name;
    std::string default_model;
  };
  ModelRegistry(ManagerFactory factory, RequestObserver* observer)
      : factory_(std::move(factory)), observer_(observer) {}
  absl::StatusOr<ModelRoute> Route(absl::string_view model, uint64_t version,
                                   absl::string_view label, const uint64_t* split_user) const;
  absl::StatusOr<std::shared_ptr<const Routes>> Build(const config::ModelConfigList& config,
                                                      const Routes* previous) const;
  // Routes `next` from now on; `previous` is the table it replaces.
  void Swap(std::shared_ptr<const Routes> next, const Routes& previous)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(apply_mu_);

  const ManagerFactory factory_;
  RequestObserver* const observer_;
  std::atomic<std::shared_ptr<const Routes>> routes_;
  Mutex apply_mu_;  // serialises SetLabel and Apply
};

}  // namespace ranker

#endif  // RANKER_SERVER_MODEL_REGISTRY_H_
