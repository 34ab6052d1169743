// `ranker-store export` and `ranker-store pull`: the command-line side of
// snapshot_repository.h, printing what they did.
#ifndef RANKER_MODEL_STORE_CLI_REPOSITORY_COMMANDS_H_
#define RANKER_MODEL_STORE_CLI_REPOSITORY_COMMANDS_H_

#include <cstdint>
#include <string>

#include "absl/status/status.h"
#include "absl/time/time.h"

namespace ranker {

// Exports `version` (0 = latest) of `store` into `repo`.
absl::Status RunExport(const std::string& store, uint64_t version, const std::string& repo,
                       bool with_histories);

// Pulls the repository's latest into `store` once, or, with a positive `follow`, again after
// each FollowWait(follow, a random draw) until SIGTERM or SIGINT; a failed pull is reported
// and retried at the next one (the store keeps its newest good version). After each new
// version, all but the newest `keep_versions` are removed (0 = keep all). REQUIRES for
// follow: SIGTERM and SIGINT blocked in every thread (this waits for them with sigtimedwait).
absl::Status RunPull(const std::string& repo, const std::string& store, absl::Duration follow,
                     size_t keep_versions);

// The wait before the next pull: `follow` scaled by 0.9 + 0.2 * `uniform01` (a draw in
// [0, 1)), so that replicas started together drift apart instead of asking the repository in
// step.
inline absl::Duration FollowWait(absl::Duration follow, double uniform01) {
  return follow * (0.9 + 0.2 * uniform01);
}

}  // namespace ranker

#endif  // RANKER_MODEL_STORE_CLI_REPOSITORY_COMMANDS_H_
