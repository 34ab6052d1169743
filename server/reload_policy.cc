#include "server/reload_policy.h"

#include <algorithm>

#include "absl/strings/str_cat.h"

namespace ranker {

absl::StatusOr<ReloadPolicy> ParseReloadPolicy(absl::string_view name) {
  if (name == "availability_preserving") return ReloadPolicy::kAvailabilityPreserving;
  if (name == "resource_preserving") return ReloadPolicy::kResourcePreserving;
  return absl::InvalidArgumentError(absl::StrCat(
      "unknown reload policy '", name, "' (availability_preserving or resource_preserving)"));
}

std::string ReloadPolicyName(ReloadPolicy policy) {
  return policy == ReloadPolicy::kResourcePreserving ? "resource_preserving"
                                                     : "availability_preserving";
}

ReloadAction DecideReload(const ReloadState& state, size_t keep_versions, ReloadPolicy policy) {
  ReloadAction action;
  const uint64_t newest_loaded = state.loaded.empty() ? 0 : state.loaded.back();
  for (auto it = state.available.rbegin(); it != state.available.rend(); ++it) {
    if (*it <= newest_loaded) break;
    if (std::find(state.failed.begin(), state.failed.end(), *it) == state.failed.end()) {
      action.load = *it;
      break;
    }
  }
  keep_versions = std::max<size_t>(1, keep_versions);
  if (!action.load) {
    // Nothing newer: fill up to keep_versions with the newest older versions not loaded yet
    // (a server started with keep_versions = 2 serves the newest two, so that a label can name
    // the one before the newest). Nothing is unloaded for them.
    if (state.loaded.size() >= keep_versions) return action;
    size_t considered = 0;
    for (auto it = state.available.rbegin();
         it != state.available.rend() && considered < keep_versions; ++it, ++considered) {
      const bool loaded = std::binary_search(state.loaded.begin(), state.loaded.end(), *it);
      const bool failed =
          std::find(state.failed.begin(), state.failed.end(), *it) != state.failed.end();
      if (!loaded && !failed && *it < newest_loaded) {
        action.load = *it;
        return action;
      }
    }
    return action;
  }
  // After the load the newest keep_versions - 1 loaded versions stay beside the new one.
  const size_t stay = std::min(state.loaded.size(), keep_versions - 1);
  action.unload.assign(state.loaded.begin(), state.loaded.end() - stay);
  std::erase_if(action.unload, [&](uint64_t version) {
    return std::find(state.protected_versions.begin(), state.protected_versions.end(), version) !=
           state.protected_versions.end();
  });
  action.unload_before_load = policy == ReloadPolicy::kResourcePreserving && !action.unload.empty();
  return action;
}

}  // namespace ranker
