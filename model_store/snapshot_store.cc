// Opening a store, catching up and reading versions; writing is in snapshot_store_write.cc.
#include "model_store/snapshot_store.h"

#include <algorithm>
#include <ctime>
#include <limits>

#include "absl/strings/cord.h"
#include "absl/strings/str_cat.h"
#include "common/crc32c.h"
#include "common/log.h"
#include "common/status_macros.h"
#include "model_store/rocks_status.h"
#include "model_store/store_keys.h"
#include "rocksdb/db.h"

namespace ranker {
namespace keys = store_keys;

bool IsMissingChunk(const absl::Status& status) {
  return status.GetPayload(kMissingChunkPayload).has_value();
}

SnapshotStore::SnapshotStore(std::unique_ptr<StoreDb> store_db)
    : store_db_(std::move(store_db)),
      db_(store_db_->db()),
      default_cf_(store_db_->default_family()),
      tensor_cf_(store_db_->tensor_family()) {}

SnapshotStore::~SnapshotStore() = default;

absl::StatusOr<std::unique_ptr<SnapshotStore>> SnapshotStore::OpenPrimary(
    const std::string& path, const StoreOptions& options) {
  return Open(path, options, StoreDb::Role::kPrimary);
}

absl::StatusOr<std::unique_ptr<SnapshotStore>> SnapshotStore::OpenSecondary(
    const std::string& path, const StoreOptions& options) {
  return Open(path, options, StoreDb::Role::kSecondary);
}

absl::StatusOr<std::unique_ptr<SnapshotStore>> SnapshotStore::Open(const std::string& path,
                                                                   const StoreOptions& options,
                                                                   StoreDb::Role role) {
  ASSIGN_OR_RETURN(std::unique_ptr<StoreDb> store_db, StoreDb::Open(path, options, role));
  return std::unique_ptr<SnapshotStore>(new SnapshotStore(std::move(store_db)));
}

absl::Status SnapshotStore::CatchUp() {
  // A secondary tails the primary's MANIFEST, and following it across the primary's reopens (a
  // new MANIFEST at each) is where RocksDB's secondaries have had their bugs (#5472, #7815,
  // #9143). Models are read whole into memory, so opening afresh after a reopen costs one
  // MANIFEST read and the table files' opening, once per publish or per pull that ingests or
  // drops a version (a pull that finds nothing leaves the primary closed).
  ASSIGN_OR_RETURN(const bool reopened, store_db_->PrimaryReopened());
  if (!reopened) return store_db_->CatchUp();
  absl::StatusOr<std::unique_ptr<StoreDb>> fresh = store_db_->Reopen();
  if (!fresh.ok()) {
    // E.g. no room for the new instance's private directory: tailing is still better than
    // standing still, and the next call tries to reopen again.
    LogWarning("store '", path(), "': opening afresh after the primary reopened failed (",
               fresh.status().ToString(), "); catching up instead");
    return store_db_->CatchUp();
  }
  store_db_ = *std::move(fresh);
  db_ = store_db_->db();
  default_cf_ = store_db_->default_family();
  tensor_cf_ = store_db_->tensor_family();
  return absl::OkStatus();
}

absl::StatusOr<std::vector<uint64_t>> SnapshotStore::ListVersions() const {
  std::vector<uint64_t> versions;
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions(), default_cf_));
  for (it->Seek(keys::kManifestPrefix); it->Valid(); it->Next()) {
    const rocksdb::Slice key = it->key();
    std::optional<uint64_t> version =
        keys::ParseManifestKey(absl::string_view(key.data(), key.size()));
    if (!version) break;
    versions.push_back(*version);
  }
  RETURN_IF_ERROR(FromRocks(it->status(), "listing versions"));
  return versions;
}

absl::StatusOr<std::optional<uint64_t>> SnapshotStore::Latest() const {
  std::string value;
  rocksdb::Status s = db_->Get(rocksdb::ReadOptions(), default_cf_, keys::kLatestKey, &value);
  if (s.IsNotFound()) return std::optional<uint64_t>();
  RETURN_IF_ERROR(FromRocks(s, "reading latest"));
  std::optional<uint64_t> version = keys::DecodeVersion(value);
  if (!version) return absl::DataLossError("the store's 'latest' key is malformed");
  return version;
}

absl::StatusOr<Manifest> SnapshotStore::ReadManifest(uint64_t version) const {
  std::string value;
  rocksdb::Status s =
      db_->Get(rocksdb::ReadOptions(), default_cf_, keys::ManifestKey(version), &value);
  if (s.IsNotFound()) {
    return absl::NotFoundError(absl::StrCat("version ", version, " is not in the store"));
  }
  RETURN_IF_ERROR(FromRocks(s, absl::StrCat("reading manifest of version ", version)));
  Manifest manifest;
  if (!manifest.ParseFromString(value)) {
    return absl::DataLossError(absl::StrCat("manifest of version ", version, " does not parse"));
  }
  if (manifest.version() != version) {
    return absl::DataLossError(
        absl::StrCat("manifest stored as version ", version, " says ", manifest.version()));
  }
  return manifest;
}

absl::StatusOr<AlignedBuffer> SnapshotStore::ReadTensor(uint64_t version,
                                                        const TensorSpec& spec) const {
  const std::string where = absl::StrCat("version ", version, " tensor '", spec.name(), "'");
  if (spec.byte_size() > 0 && spec.chunk_count() == 0) {
    return absl::DataLossError(absl::StrCat(where, ": manifest lists no chunks"));
  }
  ASSIGN_OR_RETURN(AlignedBuffer buffer, AlignedBuffer::Allocate(spec.byte_size()));
  rocksdb::ReadOptions read_options;
  read_options.fill_cache = false;  // the tensor lives in `buffer`; don't keep a second copy
  // The tensor's own CRC-32C (below) covers every byte end to end; RocksDB's per-block
  // checksum would be a second full pass over the same bytes.
  read_options.verify_checksums = false;
  rocksdb::PinnableSlice chunk;
  uint64_t offset = 0;
  uint32_t crc = 0;
  for (uint32_t i = 0; i < spec.chunk_count(); ++i) {
    chunk.Reset();
    rocksdb::Status s =
        db_->Get(read_options, tensor_cf_, keys::TensorChunkKey(version, spec.name(), i), &chunk);
    if (s.IsNotFound()) {
      absl::Status missing = absl::DataLossError(
          absl::StrCat(where, ": chunk ", i, " of ", spec.chunk_count(), " is missing"));
      missing.SetPayload(kMissingChunkPayload, absl::Cord("1"));
      return missing;
    }
    RETURN_IF_ERROR(FromRocks(s, where));
    if (chunk.size() > spec.byte_size() - offset) {
      return absl::DataLossError(absl::StrCat(where, ": chunks hold more than the manifest's ",
                                              spec.byte_size(), " bytes"));
    }
    // Checksum the chunk while it is still in cache, then copy it into place.
    crc = Crc32c(chunk.data(), chunk.size(), crc);
    std::memcpy(buffer.data() + offset, chunk.data(), chunk.size());
    offset += chunk.size();
  }
  if (offset != spec.byte_size()) {
    return absl::DataLossError(
        absl::StrCat(where, ": chunks hold ", offset, " bytes, manifest says ", spec.byte_size()));
  }
  if (crc != spec.crc32c()) {
    return absl::DataLossError(absl::StrCat(where, ": checksum mismatch (stored ", spec.crc32c(),
                                            ", computed ", crc, ")"));
  }
  return buffer;
}

}  // namespace ranker
