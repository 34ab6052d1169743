#include "model_store/cli/repository_commands.h"

#include <signal.h>

#include <cstdio>
#include <random>

#include "absl/strings/str_join.h"
#include "common/format_bytes.h"
#include "common/log.h"
#include "common/status_macros.h"
#include "model_store/snapshot_repository.h"

namespace ranker {
namespace {

void PrintPull(const PullResult& result, const std::string& repo, const std::string& store) {
  if (!result.ingested) {
    std::printf("%s already has version %lu (the latest in %s)\n", store.c_str(),
                static_cast<unsigned long>(result.version), repo.c_str());
  } else if (result.bytes == 0) {
    std::printf("%s: latest moved to version %lu\n", store.c_str(),
                static_cast<unsigned long>(result.version));
  } else {
    std::printf(
        "pulled version %lu into %s: %s copied, checked and ingested in %.2f s (%.2f GB/s)\n",
        static_cast<unsigned long>(result.version), store.c_str(),
        FormatBytes(result.bytes).c_str(), result.seconds,
        result.seconds > 0 ? static_cast<double>(result.bytes) / result.seconds / 1e9 : 0);
  }
  if (!result.removed.empty()) {
    std::printf("removed older versions %s from %s\n", absl::StrJoin(result.removed, ", ").c_str(),
                store.c_str());
  }
  std::fflush(stdout);
}

}  // namespace

absl::Status RunExport(const std::string& store, uint64_t version, const std::string& repo,
                       bool with_histories) {
  if (repo.empty()) return absl::InvalidArgumentError("export needs --to REPO");
  ASSIGN_OR_RETURN(ExportResult result, ExportVersion(store, version, repo, with_histories));
  std::printf("exported version %lu to %s/%lu: %s%s%s\n",
              static_cast<unsigned long>(result.version), repo.c_str(),
              static_cast<unsigned long>(result.version), FormatBytes(result.bytes).c_str(),
              result.histories > 0
                  ? (", with " + std::to_string(result.histories) + " users' histories").c_str()
                  : "",
              result.moved_latest ? "; LATEST names it" : "; LATEST names a newer version");
  return absl::OkStatus();
}

absl::Status RunPull(const std::string& repo, const std::string& store, absl::Duration follow,
                     size_t keep_versions) {
  if (repo.empty()) return absl::InvalidArgumentError("pull needs --from REPO");
  if (follow <= absl::ZeroDuration()) {
    ASSIGN_OR_RETURN(PullResult result, PullLatest(repo, store, keep_versions));
    PrintPull(result, repo, store);
    return absl::OkStatus();
  }
  sigset_t stop;
  sigemptyset(&stop);
  sigaddset(&stop, SIGTERM);
  sigaddset(&stop, SIGINT);
  uint64_t last_printed = 0;
  std::mt19937_64 random(std::random_device{}());
  std::uniform_real_distribution<double> uniform01(0.0, 1.0);
  for (;;) {
    absl::StatusOr<PullResult> result = PullLatest(repo, store, keep_versions);
    if (!result.ok()) {
      LogWarning("pull: ", result.status().ToString(), " (retrying in ",
                 absl::FormatDuration(follow), ")");
    } else if (result->ingested || result->version != last_printed) {
      PrintPull(*result, repo, store);
      last_printed = result->version;
    }
    const timespec wait = absl::ToTimespec(FollowWait(follow, uniform01(random)));
    if (sigtimedwait(&stop, nullptr, &wait) > 0) return absl::OkStatus();
  }
}

}  // namespace ranker
