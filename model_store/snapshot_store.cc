// Opening a store, catching up and reading versions; writing is in snapshot_store_write.cc.
#include "model_store/snapshot_store.h"

#include <stdlib.h>

#include <algorithm>
#include <ctime>
#include <filesystem>
#include <limits>

#include "absl/strings/cord.h"
#include "absl/strings/str_cat.h"
#include "common/status_macros.h"
#include "model_store/crc32c.h"
#include "model_store/rocks_status.h"
#include "model_store/store_keys.h"
#include "model_store/store_path.h"
#include "rocksdb/db.h"
#include "rocksdb/options.h"
#include "rocksdb/table.h"

namespace ranker {
namespace fs = std::filesystem;
namespace keys = store_keys;

namespace {

rocksdb::ColumnFamilyOptions TensorColumnFamilyOptions() {
  // Tensor bytes are incompressible floats and are read once per load, so: no compression and
  // reads that bypass the block cache (see ReadTensor).
  rocksdb::ColumnFamilyOptions options;
  options.compression = rocksdb::kNoCompression;
  options.write_buffer_size = 64 << 20;
  rocksdb::BlockBasedTableOptions table;
  table.block_size = 1 << 20;
  options.table_factory.reset(rocksdb::NewBlockBasedTableFactory(table));
  return options;
}

bool IsEmptyDirectory(const fs::path& path) {
  std::error_code ec;
  return fs::is_directory(path, ec) && fs::directory_iterator(path, ec) == fs::directory_iterator();
}

}  // namespace

bool IsMissingChunk(const absl::Status& status) {
  return status.GetPayload(kMissingChunkPayload).has_value();
}

SnapshotStore::SnapshotStore(std::string path, std::string secondary_dir)
    : path_(std::move(path)), secondary_dir_(std::move(secondary_dir)) {}

SnapshotStore::~SnapshotStore() {
  if (db_ != nullptr) {
    for (auto* handle : handles_) db_->DestroyColumnFamilyHandle(handle);
    db_->Close();
    db_.reset();
  }
  if (!secondary_dir_.empty()) {
    std::error_code ec;
    fs::remove_all(secondary_dir_, ec);
  }
}

absl::StatusOr<std::unique_ptr<SnapshotStore>> SnapshotStore::OpenPrimary(
    const std::string& path, const StoreOptions& options) {
  return Open(path, options, /*secondary=*/false);
}

absl::StatusOr<std::unique_ptr<SnapshotStore>> SnapshotStore::OpenSecondary(
    const std::string& path, const StoreOptions& options) {
  return Open(path, options, /*secondary=*/true);
}

absl::StatusOr<std::unique_ptr<SnapshotStore>> SnapshotStore::Open(const std::string& path,
                                                                   const StoreOptions& options,
                                                                   bool secondary) {
  std::error_code ec;
  const bool exists = fs::exists(path, ec);
  const bool is_rocksdb = exists && fs::exists(fs::path(path) / "CURRENT", ec);
  const bool creating = !secondary && options.create_if_missing && !is_rocksdb;
  if (!exists && !creating) {
    return absl::NotFoundError(absl::StrCat("store directory '", path, "' does not exist"));
  }
  if (exists && !is_rocksdb && !(creating && IsEmptyDirectory(path))) {
    return absl::FailedPreconditionError(
        absl::StrCat("'", path, "' is not a ranker store (no RocksDB database there)",
                     creating ? " and is not empty, so none is created" : ""));
  }
  RETURN_IF_ERROR(CheckConfinedToStore(path));
  if (creating) {
    fs::create_directories(path, ec);
    if (ec) return absl::InternalError(absl::StrCat("cannot create '", path, "': ", ec.message()));
  }

  rocksdb::DBOptions db_options;
  db_options.create_if_missing = creating;
  db_options.create_missing_column_families = !secondary;
  db_options.max_open_files = -1;  // required by secondary instances; cheap for a small store
  db_options.keep_log_file_num = 4;
  // A failed write (e.g. a full disk) fails the publish at once; RocksDB's background retry
  // (once a second, forever) would only delay the publisher's exit, and makes no publish
  // succeed that Publish already reported as failed.
  db_options.max_bgerror_resume_count = 0;
  if (options.env != nullptr) db_options.env = options.env;

  std::vector<rocksdb::ColumnFamilyDescriptor> families = {
      {rocksdb::kDefaultColumnFamilyName, rocksdb::ColumnFamilyOptions()},
      {keys::kTensorColumnFamily, TensorColumnFamilyOptions()}};

  std::string secondary_dir;
  rocksdb::DB* raw_db = nullptr;
  std::vector<rocksdb::ColumnFamilyHandle*> handles;
  rocksdb::Status status;
  if (secondary) {
    std::vector<std::string> existing;
    RETURN_IF_ERROR(FromRocks(rocksdb::DB::ListColumnFamilies(db_options, path, &existing),
                              absl::StrCat("cannot read store '", path, "'")));
    if (std::find(existing.begin(), existing.end(), keys::kTensorColumnFamily) == existing.end()) {
      return absl::FailedPreconditionError(
          absl::StrCat("'", path, "' is a RocksDB database but not a ranker store"));
    }
    const char* tmp = getenv("TMPDIR");
    std::string pattern = absl::StrCat(tmp != nullptr ? tmp : "/tmp", "/ranker-secondary-XXXXXX");
    if (mkdtemp(pattern.data()) == nullptr) {
      return absl::InternalError(absl::StrCat("cannot create a directory like ", pattern));
    }
    secondary_dir = pattern;
    status =
        rocksdb::DB::OpenAsSecondary(db_options, path, secondary_dir, families, &handles, &raw_db);
  } else {
    status = rocksdb::DB::Open(db_options, path, families, &handles, &raw_db);
  }
  std::unique_ptr<SnapshotStore> store(new SnapshotStore(path, secondary_dir));
  if (!status.ok()) {
    return FromRocks(status, absl::StrCat("cannot open store '", path, "'"));
  }
  store->db_.reset(raw_db);
  store->handles_ = handles;
  store->default_cf_ = handles[0];
  store->tensor_cf_ = handles[1];
  RETURN_IF_ERROR(store->CheckFormat(/*initialise=*/creating));
  return store;
}

absl::Status SnapshotStore::CheckFormat(bool initialise) {
  std::string format;
  rocksdb::Status s = db_->Get(rocksdb::ReadOptions(), default_cf_, keys::kFormatKey, &format);
  if (s.IsNotFound() && initialise) {
    rocksdb::WriteOptions sync;
    sync.sync = true;
    return FromRocks(db_->Put(sync, default_cf_, keys::kFormatKey, keys::kStoreFormat),
                     "cannot initialise store");
  }
  if (s.IsNotFound()) {
    return absl::FailedPreconditionError(
        absl::StrCat("'", path_, "' is a RocksDB database but not a ranker store"));
  }
  RETURN_IF_ERROR(FromRocks(s, "cannot read store format"));
  if (format != keys::kStoreFormat) {
    return absl::FailedPreconditionError(absl::StrCat("'", path_, "' has store format '", format,
                                                      "', expected '", keys::kStoreFormat, "'"));
  }
  return absl::OkStatus();
}

absl::Status SnapshotStore::CatchUp() {
  if (is_primary()) return absl::OkStatus();
  return FromRocks(db_->TryCatchUpWithPrimary(), "catching up with the store's primary");
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
