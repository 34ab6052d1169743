#include "server/model_registry.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "server/model_config.h"

namespace ranker {
namespace {

std::string LoadedList(const ModelManager& manager) {
  std::vector<uint64_t> versions;
  for (const LoadedVersion& loaded : manager.Loaded()) versions.push_back(loaded.version);
  return versions.empty() ? std::string("none") : absl::StrJoin(versions, ", ");
}

bool IsLoaded(const ModelManager& manager, uint64_t version) { return manager.Get(version).ok(); }

// Same store and version policy: the running manager serves the new entry as it is.
bool SameSource(const config::ModelConfig& a, const config::ModelConfig& b) {
  return a.store() == b.store() &&
         a.version_policy().SerializeAsString() == b.version_policy().SerializeAsString();
}

}  // namespace

absl::StatusOr<std::unique_ptr<ModelRegistry>> ModelRegistry::Create(
    const config::ModelConfigList& config, ManagerFactory factory, RequestObserver* observer) {
  std::unique_ptr<ModelRegistry> registry(new ModelRegistry(std::move(factory), observer));
  absl::StatusOr<std::shared_ptr<const Routes>> routes = registry->Build(config, nullptr);
  if (!routes.ok()) return routes.status();
  registry->routes_.store(*std::move(routes));
  return registry;
}

absl::StatusOr<std::shared_ptr<const ModelRegistry::Routes>> ModelRegistry::Build(
    const config::ModelConfigList& config, const Routes* previous) const {
  if (absl::Status status = CheckModelConfig(config); !status.ok()) return status;
  auto routes = std::make_shared<Routes>();
  routes->default_model = DefaultModelName(config);
  for (int i = 0; i < config.models_size(); ++i) {
    const config::ModelConfig& entry = config.models(i);
    auto served = std::make_shared<ServedModel>();
    served->config = entry;
    if (previous != nullptr) {
      auto it = previous->by_name.find(entry.name());
      if (it != previous->by_name.end() && SameSource(it->second->config, entry)) {
        served->manager = it->second->manager;
      }
    }
    if (served->manager == nullptr) {
      absl::StatusOr<std::shared_ptr<ModelManager>> manager = factory_(entry);
      if (!manager.ok()) {
        return absl::Status(
            manager.status().code(),
            absl::StrCat("models[", i, "] '", entry.name(), "': ", manager.status().message()));
      }
      served->manager = *std::move(manager);
    }
    // Protected before they are checked, so that a poll in between cannot unload them; Swap
    // narrows the protection to exactly the labels that won.
    std::vector<uint64_t> labelled;
    for (const auto& [label, version] : entry.labels()) labelled.push_back(version);
    served->manager->AddProtectedVersions(labelled);
    for (const auto& [label, version] : entry.labels()) {
      if (!IsLoaded(*served->manager, version)) {
        return absl::FailedPreconditionError(absl::StrCat(
            "models[", i, "] '", entry.name(), "': label '", label, "' names version ", version,
            ", which is not loaded (loaded: ", LoadedList(*served->manager), ")"));
      }
      served->labels[label] = version;
    }
    served->split = TrafficSplitter(entry.split());
    if (observer_ != nullptr) {
      served->observers[""] = observer_->ForRoute(entry.name(), "");
      for (const auto& [label, version] : served->labels) {
        served->observers[label] = observer_->ForRoute(entry.name(), label);
      }
    }
    routes->by_name[entry.name()] = served;
    routes->models.push_back(std::move(served));
  }
  return std::shared_ptr<const Routes>(std::move(routes));
}

std::unique_ptr<ModelRegistry> ModelRegistry::ForManager(ModelManager* manager) {
  std::unique_ptr<ModelRegistry> registry(new ModelRegistry(
      [](const config::ModelConfig&) -> absl::StatusOr<std::shared_ptr<ModelManager>> {
        return absl::FailedPreconditionError("this server serves one fixed model");
      },
      nullptr));
  auto served = std::make_shared<ServedModel>();
  served->config.set_name(std::string(kDefaultModelName));
  served->manager = std::shared_ptr<ModelManager>(manager, [](ModelManager*) {});
  auto routes = std::make_shared<Routes>();
  routes->default_model = std::string(kDefaultModelName);
  routes->by_name[routes->default_model] = served;
  routes->models.push_back(std::move(served));
  registry->routes_.store(std::move(routes));
  return registry;
}

absl::StatusOr<ModelRoute> ModelRegistry::Resolve(absl::string_view model, uint64_t version,
                                                  absl::string_view label, uint64_t user_id) const {
  return Route(model, version, label, &user_id);
}

absl::StatusOr<ModelRoute> ModelRegistry::ResolveUnsplit(absl::string_view model, uint64_t version,
                                                         absl::string_view label) const {
  return Route(model, version, label, nullptr);
}

absl::StatusOr<ModelRoute> ModelRegistry::Route(absl::string_view model, uint64_t version,
                                                absl::string_view label,
                                                const uint64_t* split_user) const {
  const std::shared_ptr<const Routes> routes = routes_.load();
  const absl::string_view name = model.empty() ? absl::string_view(routes->default_model) : model;
  auto it = routes->by_name.find(name);
  if (it == routes->by_name.end()) {
    std::vector<std::string> names;
    for (const auto& served : routes->models) names.push_back(served->config.name());
    return absl::NotFoundError(absl::StrCat("no model '", name, "' (this server serves ",
                                            absl::StrJoin(names, ", "), ")"));
  }
  ModelRoute route;
  route.served = it->second;
  const ServedModel& served = *route.served;
  if (version != 0 && !label.empty()) {
    return absl::InvalidArgumentError("give model_version or version_label, not both");
  }
  if (version == 0 && label.empty() && !served.split.empty() && split_user != nullptr) {
    label = served.split.Assign(*split_user);
    route.from_split = true;
  }
  if (!label.empty()) {
    auto labelled = served.labels.find(std::string(label));
    if (labelled == served.labels.end()) {
      return absl::NotFoundError(
          absl::StrCat("model '", served.config.name(), "' has no label '", label, "'"));
    }
    version = labelled->second;
    route.label = std::string(label);
  }
  absl::StatusOr<std::shared_ptr<const Model>> loaded = served.manager->Get(version);
  if (!loaded.ok()) {
    return absl::Status(loaded.status().code(), absl::StrCat("model '", served.config.name(),
                                                             "': ", loaded.status().message()));
  }
  route.model = *std::move(loaded);
  const bool pinned = route.label.empty() && version != 0;
  if (auto observed = served.observers.find(route.label);
      !pinned && observed != served.observers.end()) {
    route.observer = observed->second;
  }
  return route;
}

absl::StatusOr<uint64_t> ModelRegistry::SetLabel(const std::string& model, const std::string& label,
                                                 uint64_t version) {
  MutexLock lock(&apply_mu_);
  const std::shared_ptr<const Routes> current = routes_.load();
  auto it = current->by_name.find(model);
  if (it == current->by_name.end())
    return absl::NotFoundError(absl::StrCat("no model '", model, "'"));
  const auto previous = it->second->labels.find(label);
  const uint64_t previous_version = previous == it->second->labels.end() ? 0 : previous->second;
  config::ModelConfig changed = it->second->config;
  (*changed.mutable_labels())[label] = version;
  config::ModelConfigList config;
  config.set_default_model(current->default_model);
  for (const auto& served : current->models) {
    *config.add_models() = served->config.name() == model ? changed : served->config;
  }
  absl::StatusOr<std::shared_ptr<const Routes>> routes = Build(config, current.get());
  if (!routes.ok()) return routes.status();
  Swap(*std::move(routes), *current);
  return previous_version;
}

absl::Status ModelRegistry::Apply(const config::ModelConfigList& config) {
  MutexLock lock(&apply_mu_);
  const std::shared_ptr<const Routes> current = routes_.load();
  if (absl::Status status = CheckModelConfig(config); !status.ok()) return status;
  // Health, the process's model metrics and the admin calls follow the default model's
  // manager, which therefore stays for the life of the process.
  const config::ModelConfig& serving = current->by_name.at(current->default_model)->config;
  const std::string& next = DefaultModelName(config);
  bool same = next == current->default_model;
  for (const config::ModelConfig& model : config.models()) {
    if (model.name() == next) same = same && SameSource(model, serving);
  }
  if (!same) {
    return absl::FailedPreconditionError(
        absl::StrCat("the default model ('", current->default_model, "', store ", serving.store(),
                     ") cannot change at run time: restart the server for that"));
  }
  absl::StatusOr<std::shared_ptr<const Routes>> routes = Build(config, current.get());
  if (!routes.ok()) return routes.status();
  Swap(*std::move(routes), *current);
  return absl::OkStatus();
}

void ModelRegistry::Swap(std::shared_ptr<const Routes> next, const Routes& previous) {
  // Each manager now keeps exactly the versions its labels name (beside its newest ones).
  for (const auto& served : next->models) {
    std::vector<uint64_t> labelled;
    for (const auto& [label, version] : served->labels) labelled.push_back(version);
    served->manager->SetProtectedVersions(std::move(labelled));
  }
  // Removed models stop their watchers here, on the thread that applies the config: a Rank
  // call that still holds one and drops the last reference must not wait for a load to end.
  for (const auto& served : previous.models) {
    auto kept = next->by_name.find(served->config.name());
    if (kept == next->by_name.end() || kept->second->manager != served->manager) {
      served->manager->StopWatcher();
    }
  }
  routes_.store(std::move(next));
}

std::vector<std::shared_ptr<const ServedModel>> ModelRegistry::Models() const {
  return routes_.load()->models;
}

std::string ModelRegistry::DefaultModel() const { return routes_.load()->default_model; }

std::shared_ptr<ModelManager> ModelRegistry::DefaultManager() const {
  const std::shared_ptr<const Routes> routes = routes_.load();
  return routes->by_name.at(routes->default_model)->manager;
}

void ModelRegistry::StopWatchers() {
  for (const auto& served : Models()) served->manager->StopWatcher();
}

}  // namespace ranker
