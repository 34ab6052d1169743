// The versioned snapshot store on RocksDB (key layout in store_keys.h).
//
// One process at a time opens a store as the *primary* (publisher: trainer, importer,
// `ranker-store`); any number of readers open it as a *secondary* and call CatchUp() to see
// what the primary has published since. Publish writes every tensor chunk and flushes them to
// table files, then writes the manifest and `latest` in one WriteBatch and flushes that too
// (no WAL: readers learn of both from ordered MANIFEST edits), so a reader never sees a
// manifest whose tensors are missing, and a publisher killed mid-way leaves the previous
// version as latest.
//
// Thread safety: all methods may be called concurrently (RocksDB is thread-safe), except that
// CatchUp() must not race with reads of the same secondary (the ModelManager serialises them).
#ifndef RANKER_MODEL_STORE_SNAPSHOT_STORE_H_
#define RANKER_MODEL_STORE_SNAPSHOT_STORE_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "model/snapshot.h"
#include "model_store/store_db.h"

namespace rocksdb {
class DB;
class ColumnFamilyHandle;
}  // namespace rocksdb

namespace ranker {

struct PublishOptions {
  // 0 = latest + 1. Otherwise must be greater than every existing version.
  uint64_t version = 0;
  size_t chunk_bytes = size_t{4} << 20;
  // Test hook, called after all chunks are written and before the final batch. A non-OK
  // status aborts the publish there (leaving orphan chunks that gc removes).
  std::function<absl::Status()> before_commit;
  // Fault-injection hook for tests: may change a chunk's bytes before they are written, while
  // the manifest keeps the checksum of the true bytes (a corruption the loader must catch).
  std::function<void(const std::string& tensor, uint32_t chunk, std::string* bytes)> chunk_hook;
};

// A missing chunk is DATA_LOSS with this payload. Readers that follow a primary retry it after
// another CatchUp() before calling the version corrupt: a safety net for secondaries lagging
// behind the primary (Publish commits through table files to avoid the one lag seen, see .cc).
inline constexpr char kMissingChunkPayload[] = "ranker/missing-chunk";
bool IsMissingChunk(const absl::Status& status);

class SnapshotStore {
 public:
  // Opens the store at `path` as the primary (read-write). Fails if `path` is missing (unless
  // create_if_missing), is not a RocksDB directory, or is a RocksDB that is not a ranker store.
  static absl::StatusOr<std::unique_ptr<SnapshotStore>> OpenPrimary(
      const std::string& path, const StoreOptions& options = {});
  // Opens the store at `path` read-only as a RocksDB secondary instance; its private state
  // lives in a temporary directory removed on destruction.
  static absl::StatusOr<std::unique_ptr<SnapshotStore>> OpenSecondary(
      const std::string& path, const StoreOptions& options = {});

  ~SnapshotStore();
  SnapshotStore(const SnapshotStore&) = delete;
  SnapshotStore& operator=(const SnapshotStore&) = delete;

  const std::string& path() const { return store_db_->path(); }
  bool is_primary() const { return store_db_->is_primary(); }

  // Secondary only: makes what the primary wrote since the last call visible. After the
  // primary has reopened (a new MANIFEST) the store is opened afresh, so references obtained
  // from store_db() before the call are invalid after it.
  absl::Status CatchUp();

  // Complete versions (those with a manifest), ascending.
  absl::StatusOr<std::vector<uint64_t>> ListVersions() const;
  // The version `latest` names, or nullopt for an empty store.
  absl::StatusOr<std::optional<uint64_t>> Latest() const;
  // NOT_FOUND if `version` has no manifest; DATA_LOSS if it does not parse.
  absl::StatusOr<Manifest> ReadManifest(uint64_t version) const;
  // Reads one tensor into an aligned buffer, bypassing the block cache, and checks its chunk
  // count, byte size and CRC-32C against `spec`. DATA_LOSS names the version and tensor; for a
  // missing chunk it also carries the kMissingChunkPayload payload (see IsMissingChunk).
  absl::StatusOr<AlignedBuffer> ReadTensor(uint64_t version, const TensorSpec& spec) const;

  // Primary only. Publishes `snapshot` as a new version (filling its manifest's version,
  // creation time and tensor specs) and returns the version.
  absl::StatusOr<uint64_t> Publish(Snapshot& snapshot, const PublishOptions& options = {});
  // Primary only. Moves `latest` to `version`, which must have a manifest: a version whose table
  // files were ingested from a repository (snapshot_repository.h). Committed like Publish.
  absl::Status SetLatest(uint64_t version);
  // The database underneath, for writing and ingesting table files (snapshot_repository.h).
  StoreDb& store_db() const { return *store_db_; }

  // Primary only. Removes all but the newest `keep` versions (keep >= 1, so `latest` always
  // stays) and any orphan chunks of unfinished publishes. Returns the removed versions.
  absl::StatusOr<std::vector<uint64_t>> CollectGarbage(size_t keep);
  // Primary only. The cheap part of CollectGarbage, for stores filled by pulls: removes all but
  // the newest `keep` versions (their manifests, and every tensor key below the oldest kept
  // version), deleting whole table files in that range at once and leaving the rest to
  // RocksDB's own compactions; no full compaction. Returns the removed versions.
  absl::StatusOr<std::vector<uint64_t>> DropOldVersions(size_t keep);

 private:
  explicit SnapshotStore(std::unique_ptr<StoreDb> store_db);
  static absl::StatusOr<std::unique_ptr<SnapshotStore>> Open(const std::string& path,
                                                             const StoreOptions& options,
                                                             StoreDb::Role role);

  std::unique_ptr<StoreDb> store_db_;
  // Borrowed from store_db_, named for the code that reads and writes versions.
  rocksdb::DB* db_;
  rocksdb::ColumnFamilyHandle* default_cf_;
  rocksdb::ColumnFamilyHandle* tensor_cf_;
};

}  // namespace ranker

#endif  // RANKER_MODEL_STORE_SNAPSHOT_STORE_H_
