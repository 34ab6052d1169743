#include "model_store/snapshot_store.h"

#include <stdlib.h>

#include <algorithm>
#include <ctime>
#include <filesystem>
#include <limits>

#include "absl/strings/cord.h"
#include "absl/strings/str_cat.h"
#include "model_store/crc32c.h"
#include "common/status_macros.h"
#include "model_store/store_keys.h"
#include "model_store/store_path.h"
#include "model_store/tensor_specs.h"
#include "rocksdb/db.h"
#include "rocksdb/options.h"
#include "rocksdb/table.h"
#include "rocksdb/write_batch.h"

namespace ranker {
namespace fs = std::filesystem;
namespace keys = store_keys;

namespace {

absl::Status FromRocks(const rocksdb::Status& s, absl::string_view context) {
  if (s.ok()) return absl::OkStatus();
  const std::string message = absl::StrCat(context, ": ", s.ToString());
  if (s.IsNotFound()) return absl::NotFoundError(message);
  if (s.IsCorruption()) return absl::DataLossError(message);
  if (s.IsIOError() && s.IsNoSpace()) return absl::ResourceExhaustedError(message);
  if (s.IsBusy() || s.IsTimedOut() || s.IsTryAgain()) return absl::UnavailableError(message);
  if (s.IsInvalidArgument()) return absl::FailedPreconditionError(message);
  return absl::InternalError(message);
}

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

absl::StatusOr<uint64_t> SnapshotStore::Publish(Snapshot& snapshot, const PublishOptions& options) {
  if (!is_primary()) return absl::FailedPreconditionError("publish needs the primary store");
  if (options.chunk_bytes == 0) return absl::InvalidArgumentError("chunk_bytes must be > 0");
  ASSIGN_OR_RETURN(std::vector<uint64_t> versions, ListVersions());
  ASSIGN_OR_RETURN(std::optional<uint64_t> latest, Latest());
  uint64_t newest = versions.empty() ? 0 : versions.back();
  if (latest) newest = std::max(newest, *latest);
  const uint64_t version = options.version != 0 ? options.version : newest + 1;
  if (version <= newest) {
    return absl::FailedPreconditionError(
        absl::StrCat("version ", version, " is not newer than the store's ", newest));
  }
  if (version == std::numeric_limits<uint64_t>::max()) {
    return absl::InvalidArgumentError("version 2^64-1 is reserved");
  }

  Manifest& manifest = snapshot.manifest;
  manifest.set_format_version(1);
  manifest.set_version(version);
  manifest.set_created_unix_seconds(std::time(nullptr));
  DescribeTensors(snapshot.tensors, &manifest);

  // Chunks skip the WAL: they are flushed (and synced) to table files before the manifest is
  // written, which is cheaper than writing every byte twice.
  rocksdb::WriteOptions chunk_write;
  chunk_write.disableWAL = true;
  for (TensorSpec& spec : *manifest.mutable_tensors()) {
    const AlignedBuffer& bytes = snapshot.tensors.at(spec.name()).bytes;
    uint32_t chunk = 0;
    for (size_t offset = 0; offset < bytes.size(); offset += options.chunk_bytes, ++chunk) {
      const size_t size = std::min(options.chunk_bytes, bytes.size() - offset);
      rocksdb::Slice value(reinterpret_cast<const char*>(bytes.data()) + offset, size);
      std::string altered;
      if (options.chunk_hook) {
        altered.assign(value.data(), value.size());
        options.chunk_hook(spec.name(), chunk, &altered);
        value = rocksdb::Slice(altered);
      }
      RETURN_IF_ERROR(
          FromRocks(db_->Put(chunk_write, tensor_cf_,
                             keys::TensorChunkKey(version, spec.name(), chunk), value),
                    absl::StrCat("writing version ", version, " tensor '", spec.name(), "'")));
    }
    spec.set_chunk_count(chunk);
  }
  rocksdb::FlushOptions flush;
  flush.wait = true;
  RETURN_IF_ERROR(FromRocks(db_->Flush(flush, tensor_cf_),
                            absl::StrCat("flushing the tensors of version ", version)));
  if (options.before_commit) RETURN_IF_ERROR(options.before_commit());

  rocksdb::WriteBatch batch;
  batch.Put(default_cf_, keys::ManifestKey(version), manifest.SerializeAsString());
  batch.Put(default_cf_, keys::kLatestKey, keys::EncodeVersion(version));
  RETURN_IF_ERROR(CommitThroughTableFiles(&batch, absl::StrCat("committing version ", version)));
  return version;
}

absl::Status SnapshotStore::CommitThroughTableFiles(rocksdb::WriteBatch* batch,
                                                    absl::string_view what) {
  // Readers are secondaries. A secondary replays the WAL and the MANIFEST separately, and
  // RocksDB 7.8 secondaries were seen to apply a WAL record (the manifest key) before the
  // MANIFEST edit that adds the flushed table file holding its chunks. So nothing goes through
  // the WAL: the batch is written to the memtable and flushed, and readers learn of it from
  // MANIFEST edits, which they apply in order: chunks' file first, then this batch's file.
  rocksdb::WriteOptions no_wal;
  no_wal.disableWAL = true;
  RETURN_IF_ERROR(FromRocks(db_->Write(no_wal, batch), what));
  rocksdb::FlushOptions flush;
  flush.wait = true;
  return FromRocks(db_->Flush(flush, {tensor_cf_, default_cf_}), what);
}

absl::StatusOr<std::vector<uint64_t>> SnapshotStore::CollectGarbage(size_t keep) {
  if (!is_primary()) return absl::FailedPreconditionError("gc needs the primary store");
  if (keep == 0) return absl::InvalidArgumentError("gc must keep at least one version");
  ASSIGN_OR_RETURN(std::vector<uint64_t> versions, ListVersions());
  const size_t removed_count = versions.size() > keep ? versions.size() - keep : 0;
  std::vector<uint64_t> removed(versions.begin(), versions.begin() + removed_count);
  std::vector<uint64_t> kept(versions.begin() + removed_count, versions.end());

  rocksdb::WriteBatch batch;
  for (uint64_t version : removed) batch.Delete(default_cf_, keys::ManifestKey(version));
  // Delete every tensor range that is not a kept version: removed versions and orphan chunks
  // of publishes that never committed alike.
  // (Empty ranges, between consecutive versions, are skipped: RocksDB wants begin < end.)
  std::string begin = std::string(keys::kTensorPrefix);
  const auto delete_range = [&](const std::string& end) {
    if (begin < end) batch.DeleteRange(tensor_cf_, begin, end);
  };
  for (uint64_t version : kept) {
    delete_range(keys::TensorRangeBegin(version));
    begin = keys::TensorRangeEnd(version);
  }
  delete_range(absl::StrCat(keys::kTensorPrefix, std::string(9, '\xff')));
  RETURN_IF_ERROR(CommitThroughTableFiles(&batch, "garbage collection"));
  RETURN_IF_ERROR(
      FromRocks(db_->CompactRange(rocksdb::CompactRangeOptions(), tensor_cf_, nullptr, nullptr),
                "compacting after garbage collection"));
  return removed;
}

}  // namespace ranker
