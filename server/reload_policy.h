// The reload decision as a pure function of what is loaded and what the store offers, so it
// can be tested with a table of cases (in the manner of TF Serving's version policies).
#ifndef RANKER_SERVER_RELOAD_POLICY_H_
#define RANKER_SERVER_RELOAD_POLICY_H_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace ranker {

enum class ReloadPolicy {
  // Load the new version next to the old ones, then unload: never a moment without a model,
  // at the cost of holding old + new in memory during the load.
  kAvailabilityPreserving,
  // Unload what will not be kept before loading: peak memory stays at the kept versions plus
  // the new one, but with keep_versions = 1 requests get UNAVAILABLE while it loads.
  kResourcePreserving,
};

absl::StatusOr<ReloadPolicy> ParseReloadPolicy(absl::string_view name);
std::string ReloadPolicyName(ReloadPolicy policy);

struct ReloadState {
  std::vector<uint64_t> loaded;              // ascending
  std::vector<uint64_t> available;           // complete versions in the store, ascending
  std::vector<uint64_t> failed;              // versions whose load failed (any order)
  std::vector<uint64_t> protected_versions;  // never unloaded (labelled versions), any order
};

struct ReloadAction {
  std::optional<uint64_t> load;  // version to load, if any
  std::vector<uint64_t> unload;  // versions to drop (when load succeeds, unless before)
  bool unload_before_load = false;
};

// Loads the newest available version that is newer than everything loaded and has not failed
// before. With nothing loaded (a fresh start) any version qualifies, so a bad latest version
// does not stop the server from serving the good one before it. Keeps the newest
// `keep_versions` (>= 1) versions including the new one. With nothing newer to load, loads
// the newest available version among the newest `keep_versions` that is neither loaded nor
// failed (unloading nothing), so that the newest keep_versions end up loaded. Protected
// versions are never unloaded: they stay beside the newest keep_versions.
ReloadAction DecideReload(const ReloadState& state, size_t keep_versions, ReloadPolicy policy);

}  // namespace ranker

#endif  // RANKER_SERVER_RELOAD_POLICY_H_
