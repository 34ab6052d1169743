// A snapshot repository: published versions as immutable files in a directory (local disk, NFS,
// or an object store mounted or synced with rclone), for replicas that each keep a local store.
//
//   REPO/<version>/manifest.sst   the version's manifest key ("default" family)
//   REPO/<version>/tensors.sst    its tensor chunks ("tensors" family)
//   REPO/<version>/history.sst    with_histories only: every user history in the store's
//                                 history family at export time ("history"; absent when none).
//                                 By default versions ship without them: a fleet's histories
//                                 come from the event stream (events/), so a pull stays the
//                                 size of the model.
//   REPO/<version>/CONTENTS       "ranker-snapshot-export/1", "version V", then one
//                                 "file NAME BYTES CRC32C" line per file
//   REPO/LATEST                   the newest exported version, in decimal
//
// The files are RocksDB table files (SstFileWriter), so a replica loads them with RocksDB's own
// bulk load (IngestExternalFile) instead of replaying writes. A version directory appears by
// rename once complete, and LATEST is replaced by rename after it, so a reader sees either the
// old or the new pointer and never a version without its files. Nothing is ever modified in
// place: exporting a version that exists is ALREADY_EXISTS.
#ifndef RANKER_MODEL_STORE_SNAPSHOT_REPOSITORY_H_
#define RANKER_MODEL_STORE_SNAPSHOT_REPOSITORY_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace ranker {

struct ExportResult {
  uint64_t version = 0;
  uint64_t bytes = 0;         // all files
  uint64_t histories = 0;     // users whose history was exported
  bool moved_latest = false;  // false when LATEST already named a newer version
};

// Exports `version` (0 = the store's latest) of the store at `store_path` (opened read-only, so
// a publisher may keep it open) into `repo`, creating `repo` if needed; the store's histories
// too when `with_histories` (a fleet without a broker).
absl::StatusOr<ExportResult> ExportVersion(const std::string& store_path, uint64_t version,
                                           const std::string& repo, bool with_histories = false);

// The version REPO/LATEST names: NOT_FOUND if there is none yet, DATA_LOSS if it is malformed.
absl::StatusOr<uint64_t> RepositoryLatest(const std::string& repo);

struct PullResult {
  uint64_t version = 0;           // the repository's latest
  bool ingested = false;          // false: the store already had it (or a newer latest)
  uint64_t bytes = 0;             // copied and ingested
  double seconds = 0;             // copy, verify and ingest
  std::vector<uint64_t> removed;  // older versions removed after the ingest (keep_versions)
};

// Brings the repository's latest version into the store at `store_path` (created if missing;
// opened as the primary, so no publisher may hold it): copies its files next to the store,
// checks each file's size and CRC-32C against CONTENTS, ingests them, then moves the store's
// `latest` to it. A missing, truncated or corrupt file is DATA_LOSS naming it, and the store is
// left exactly as it was (its newest good version keeps serving). Servers following the store
// pick the new version up at their next poll. With `keep_versions` > 0, every pull (one that
// found nothing new too) then removes all but the newest `keep_versions` (a replica's store
// holds copies, and would otherwise grow by a version at every new one).
absl::StatusOr<PullResult> PullLatest(const std::string& repo, const std::string& store_path,
                                      size_t keep_versions = 0);

}  // namespace ranker

#endif  // RANKER_MODEL_STORE_SNAPSHOT_REPOSITORY_H_
