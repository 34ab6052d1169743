// The RocksDB database under a ranker store: its column families and their options, opening
// it as the primary or as a secondary, the format check, and the commit that readers see in
// order. SnapshotStore (versioned models) and HistoryStore (user histories) each hold one.
//
// Column families: "default" (format, latest, manifests), "tensors" (tensor chunks) and
// "history" (user histories). A primary creates any that are missing, so a store made by an
// older version gains "history" the next time a current tool opens it read-write.
#ifndef RANKER_MODEL_STORE_STORE_DB_H_
#define RANKER_MODEL_STORE_STORE_DB_H_

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace rocksdb {
class DB;
class WriteBatch;
class ColumnFamilyHandle;
class Env;
}  // namespace rocksdb

namespace ranker {

struct StoreOptions {
  // Primary only: create an empty store if `path` does not exist or is empty.
  bool create_if_missing = false;
  // For fault-injection tests; not owned. nullptr = the default Env.
  rocksdb::Env* env = nullptr;
};

class StoreDb {
 public:
  enum class Role { kPrimary, kSecondary };
  // What a secondary opens (a primary always opens every family): each reader only the
  // families it reads, so a model reader does not follow history writes, nor the reverse.
  enum class OpenFor { kModels, kHistories };

  // Fails if `path` is missing (unless a primary may create it), is not a RocksDB directory,
  // or is a RocksDB that is not a ranker store; a kHistories secondary of a store without a
  // history family (one last written by an older version) is FAILED_PRECONDITION. A secondary's
  // private state lives in a temporary directory removed on destruction. `history_cache_bytes`
  // bounds the block cache of the history family (0 = RocksDB's default).
  static absl::StatusOr<std::unique_ptr<StoreDb>> Open(const std::string& path,
                                                       const StoreOptions& options, Role role,
                                                       OpenFor open_for = OpenFor::kModels,
                                                       size_t history_cache_bytes = 0);
  ~StoreDb();
  StoreDb(const StoreDb&) = delete;
  StoreDb& operator=(const StoreDb&) = delete;

  const std::string& path() const { return path_; }
  bool is_primary() const { return secondary_dir_.empty(); }
  rocksdb::DB* db() const { return db_.get(); }
  // nullptr for a secondary opened for kHistories.
  rocksdb::ColumnFamilyHandle* default_family() const { return default_cf_; }
  rocksdb::ColumnFamilyHandle* tensor_family() const { return tensor_cf_; }
  // nullptr for a secondary opened for kModels.
  rocksdb::ColumnFamilyHandle* history_family() const { return history_cf_; }

  // Secondary only (OK for a primary): replays what the primary wrote since the last call.
  // RocksDB allows reads on other threads meanwhile (its stress test does both at once).
  absl::Status CatchUp();
  // Secondary only: whether the primary has been opened again since this instance opened (the
  // store's CURRENT file names another MANIFEST than it did then).
  absl::StatusOr<bool> PrimaryReopened() const;
  // A new instance with this one's role, families and options; this one stays usable.
  absl::StatusOr<std::unique_ptr<StoreDb>> Reopen() const;

  // One column family, for table files that ship a store's contents elsewhere
  // (snapshot_repository.h).
  enum class Family { kDefault, kTensors, kHistory };
  struct TableFile {
    uint64_t entries = 0;
    uint64_t bytes = 0;
  };
  // Writes the keys of `family` in [begin, end) (end empty: to the last key) to a new table
  // file at `path`, with the options the store gives that family. No file is written when the
  // range is empty (entries == 0). FAILED_PRECONDITION if this instance lacks the family.
  absl::StatusOr<TableFile> WriteTableFile(Family family, const std::string& begin,
                                           const std::string& end, const std::string& path) const;
  // Primary only. Moves the table files at `paths` into `family` (RocksDB's bulk load; their
  // keys become the newest values). REQUIRES: the caller has checked the files' bytes (RocksDB's
  // block checksums are not read again). The files must be on the store's file system; they are
  // gone from `paths` afterwards.
  absl::Status IngestTableFiles(Family family, const std::vector<std::string>& paths);

  // Writes `batch` without the WAL and flushes `families`, so secondaries learn of it only
  // from MANIFEST edits, which they apply in order (see snapshot_store_write.cc for why).
  absl::Status CommitThroughTableFiles(rocksdb::WriteBatch* batch,
                                       const std::vector<rocksdb::ColumnFamilyHandle*>& families,
                                       absl::string_view what);

 private:
  StoreDb(std::string path, std::string secondary_dir);
  absl::Status CheckFormat(bool initialise);
  // nullptr when this instance was opened without `family`.
  rocksdb::ColumnFamilyHandle* FamilyHandle(Family family) const;

  std::string path_;
  std::string secondary_dir_;  // empty for the primary
  StoreOptions options_;
  OpenFor open_for_ = OpenFor::kModels;
  size_t history_cache_bytes_ = 0;
  std::string manifest_at_open_;  // what CURRENT said just before a secondary opened
  std::unique_ptr<rocksdb::DB> db_;
  rocksdb::ColumnFamilyHandle* default_cf_ = nullptr;
  rocksdb::ColumnFamilyHandle* tensor_cf_ = nullptr;
  rocksdb::ColumnFamilyHandle* history_cf_ = nullptr;
  std::vector<rocksdb::ColumnFamilyHandle*> handles_;
};

}  // namespace ranker

#endif  // RANKER_MODEL_STORE_STORE_DB_H_
