#include "model_store/store_db.h"

#include <stdlib.h>
#include <sys/stat.h>

#include <algorithm>
#include <filesystem>

#include "absl/strings/str_cat.h"
#include "common/files.h"
#include "common/status_macros.h"
#include "model_store/rocks_status.h"
#include "model_store/store_keys.h"
#include "model_store/store_path.h"
#include "rocksdb/cache.h"
#include "rocksdb/db.h"
#include "rocksdb/filter_policy.h"
#include "rocksdb/options.h"
#include "rocksdb/sst_file_writer.h"
#include "rocksdb/table.h"
#include "rocksdb/write_batch.h"

namespace ranker {
namespace fs = std::filesystem;
namespace keys = store_keys;

namespace {

// The MANIFEST the store's CURRENT file names, and its inode: the primary writes a new one at
// every open and replaces CURRENT atomically, and a store replaced whole may reuse the name.
absl::StatusOr<std::string> CurrentManifest(const std::string& store_path) {
  ASSIGN_OR_RETURN(std::string name,
                   ReadFileToString((std::filesystem::path(store_path) / "CURRENT").string(),
                                    "the store's CURRENT file"));
  while (!name.empty() && name.back() == '\n') name.pop_back();
  struct stat manifest;
  if (stat((std::filesystem::path(store_path) / name).c_str(), &manifest) != 0) {
    // Replaced between the two reads: a reopen will find the new one.
    return absl::StrCat(name, " (gone)");
  }
  return absl::StrCat(name, " inode ", manifest.st_ino);
}

rocksdb::ColumnFamilyOptions TensorColumnFamilyOptions() {
  // Tensor bytes are incompressible floats and are read once per load, so: no compression and
  // reads that bypass the block cache (see SnapshotStore::ReadTensor).
  rocksdb::ColumnFamilyOptions options;
  options.compression = rocksdb::kNoCompression;
  options.write_buffer_size = 64 << 20;
  rocksdb::BlockBasedTableOptions table;
  table.block_size = 1 << 20;
  options.table_factory.reset(rocksdb::NewBlockBasedTableFactory(table));
  return options;
}

rocksdb::ColumnFamilyOptions HistoryColumnFamilyOptions(size_t cache_bytes) {
  // Served by point lookups on the request path: a bloom filter skips table files that lack
  // the user, and index and filter blocks live in the bounded cache with the data blocks.
  rocksdb::ColumnFamilyOptions options;
  options.write_buffer_size = 64 << 20;
  rocksdb::BlockBasedTableOptions table;
  table.filter_policy.reset(rocksdb::NewBloomFilterPolicy(10));
  table.cache_index_and_filter_blocks = true;
  table.pin_l0_filter_and_index_blocks_in_cache = true;
  if (cache_bytes > 0) table.block_cache = rocksdb::NewLRUCache(cache_bytes);
  options.table_factory.reset(rocksdb::NewBlockBasedTableFactory(table));
  return options;
}

bool IsEmptyDirectory(const fs::path& path) {
  std::error_code ec;
  return fs::is_directory(path, ec) && fs::directory_iterator(path, ec) == fs::directory_iterator();
}

bool Contains(const std::vector<std::string>& names, absl::string_view name) {
  return std::find(names.begin(), names.end(), name) != names.end();
}

}  // namespace

StoreDb::StoreDb(std::string path, std::string secondary_dir)
    : path_(std::move(path)), secondary_dir_(std::move(secondary_dir)) {}

StoreDb::~StoreDb() {
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

absl::StatusOr<std::unique_ptr<StoreDb>> StoreDb::Open(const std::string& path,
                                                       const StoreOptions& options, Role role,
                                                       OpenFor open_for,
                                                       size_t history_cache_bytes) {
  const bool secondary = role == Role::kSecondary;
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
  // A serving secondary logs at every catch-up (its info log is in TMPDIR, a pod's small /tmp)
  // and a pull loop reopens the primary every few seconds (its log is in the store): unbounded,
  // either fills a small volume over weeks.
  db_options.max_log_file_size = 4 << 20;
  // RocksDB opens new table files on a burst of fresh threads (16 by default) whenever it applies
  // a manifest update, which a serving secondary does at every poll: ~30 threads created and
  // gone every 5 s in a server, for a store of a few files. One thread opens them as fast here.
  db_options.max_file_opening_threads = 1;
  // A failed write (e.g. a full disk) fails the publish at once; RocksDB's background retry
  // (once a second, forever) would only delay the publisher's exit, and makes no publish
  // succeed that Publish already reported as failed.
  db_options.max_bgerror_resume_count = 0;
  if (options.env != nullptr) db_options.env = options.env;
  const bool with_tensors = !secondary || open_for == OpenFor::kModels;
  const bool with_history = !secondary || open_for == OpenFor::kHistories;
  std::vector<rocksdb::ColumnFamilyDescriptor> descriptors = {
      {rocksdb::kDefaultColumnFamilyName, rocksdb::ColumnFamilyOptions()}};
  if (with_tensors) descriptors.push_back({keys::kTensorColumnFamily, TensorColumnFamilyOptions()});

  std::string secondary_dir, manifest_at_open;
  if (secondary) {
    std::vector<std::string> existing;
    RETURN_IF_ERROR(FromRocks(rocksdb::DB::ListColumnFamilies(db_options, path, &existing),
                              absl::StrCat("cannot read store '", path, "'")));
    if (!Contains(existing, keys::kTensorColumnFamily)) {
      return absl::FailedPreconditionError(
          absl::StrCat("'", path, "' is a RocksDB database but not a ranker store"));
    }  // A store last opened read-write by an older version has no history family; only a
    // primary can add one (secondaries ignore families created after they open).
    if (with_history && !Contains(existing, keys::kHistoryColumnFamily)) {
      return absl::FailedPreconditionError(absl::StrCat(
          "store '", path,
          "' has no stored histories yet (no history column family; it is added the next "
          "time the store is opened read-write, e.g. by `ranker-store history import`)"));
    }
    // Read before opening: if the primary reopens meanwhile, the next PrimaryReopened() says
    // so (one reopen too many, never one too few).
    ASSIGN_OR_RETURN(manifest_at_open, CurrentManifest(path));
    const char* tmp = getenv("TMPDIR");
    std::string pattern = absl::StrCat(tmp != nullptr ? tmp : "/tmp", "/ranker-secondary-XXXXXX");
    if (mkdtemp(pattern.data()) == nullptr) {
      return absl::InternalError(absl::StrCat("cannot create a directory like ", pattern));
    }
    secondary_dir = pattern;
  }
  if (with_history) {
    descriptors.push_back(
        {keys::kHistoryColumnFamily, HistoryColumnFamilyOptions(history_cache_bytes)});
  }

  rocksdb::DB* raw_db = nullptr;
  std::vector<rocksdb::ColumnFamilyHandle*> handles;
  rocksdb::Status status =
      secondary ? rocksdb::DB::OpenAsSecondary(db_options, path, secondary_dir, descriptors,
                                               &handles, &raw_db)
                : rocksdb::DB::Open(db_options, path, descriptors, &handles, &raw_db);
  std::unique_ptr<StoreDb> store(new StoreDb(path, secondary_dir));
  if (!status.ok()) return FromRocks(status, absl::StrCat("cannot open store '", path, "'"));
  store->options_ = options;
  store->open_for_ = open_for;
  store->history_cache_bytes_ = history_cache_bytes;
  store->manifest_at_open_ = std::move(manifest_at_open);
  store->db_.reset(raw_db);
  store->handles_ = handles;
  size_t next = 0;
  store->default_cf_ = handles[next++];
  if (with_tensors) store->tensor_cf_ = handles[next++];
  if (with_history) store->history_cf_ = handles[next++];
  RETURN_IF_ERROR(store->CheckFormat(/*initialise=*/creating));
  return store;
}

absl::Status StoreDb::CheckFormat(bool initialise) {
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

absl::Status StoreDb::CatchUp() {
  if (is_primary()) return absl::OkStatus();
  return FromRocks(db_->TryCatchUpWithPrimary(), "catching up with the store's primary");
}

absl::StatusOr<bool> StoreDb::PrimaryReopened() const {
  if (is_primary()) return false;
  ASSIGN_OR_RETURN(std::string manifest, CurrentManifest(path_));
  return manifest != manifest_at_open_;
}

absl::StatusOr<std::unique_ptr<StoreDb>> StoreDb::Reopen() const {
  return Open(path_, options_, is_primary() ? Role::kPrimary : Role::kSecondary, open_for_,
              history_cache_bytes_);
}

absl::Status StoreDb::CommitThroughTableFiles(
    rocksdb::WriteBatch* batch, const std::vector<rocksdb::ColumnFamilyHandle*>& families,
    absl::string_view what) {
  // Readers are secondaries. A secondary replays the WAL and the MANIFEST separately, and
  // RocksDB 7.8 secondaries were seen to apply a WAL record (the manifest key) before the
  // MANIFEST edit that adds the flushed table file holding its chunks. So nothing goes through
  // the WAL: the batch is written to the memtable and flushed, and readers learn of it from
  // MANIFEST edits, which they apply in order.
  rocksdb::WriteOptions no_wal;
  no_wal.disableWAL = true;
  RETURN_IF_ERROR(FromRocks(db_->Write(no_wal, batch), what));
  rocksdb::FlushOptions flush;
  flush.wait = true;
  return FromRocks(db_->Flush(flush, families), what);
}

namespace {

rocksdb::ColumnFamilyOptions FamilyOptions(StoreDb::Family family) {
  switch (family) {
    case StoreDb::Family::kTensors:
      return TensorColumnFamilyOptions();
    case StoreDb::Family::kHistory:
      return HistoryColumnFamilyOptions(0);
    case StoreDb::Family::kDefault:
      break;
  }
  return rocksdb::ColumnFamilyOptions();
}

const char* FamilyName(StoreDb::Family family) {
  switch (family) {
    case StoreDb::Family::kTensors:
      return keys::kTensorColumnFamily;
    case StoreDb::Family::kHistory:
      return keys::kHistoryColumnFamily;
    case StoreDb::Family::kDefault:
      break;
  }
  return "default";
}

}  // namespace

rocksdb::ColumnFamilyHandle* StoreDb::FamilyHandle(Family family) const {
  switch (family) {
    case Family::kTensors:
      return tensor_cf_;
    case Family::kHistory:
      return history_cf_;
    case Family::kDefault:
      break;
  }
  return default_cf_;
}

absl::StatusOr<StoreDb::TableFile> StoreDb::WriteTableFile(Family family, const std::string& begin,
                                                           const std::string& end,
                                                           const std::string& path) const {
  rocksdb::ColumnFamilyHandle* handle = FamilyHandle(family);
  if (handle == nullptr) {
    return absl::FailedPreconditionError(
        absl::StrCat("store '", path_, "' was opened without its ", FamilyName(family), " family"));
  }
  rocksdb::ReadOptions read;
  read.fill_cache = false;
  rocksdb::Slice upper(end);
  if (!end.empty()) read.iterate_upper_bound = &upper;
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(read, handle));
  const rocksdb::Options options(rocksdb::DBOptions(), FamilyOptions(family));
  rocksdb::SstFileWriter writer(rocksdb::EnvOptions(), options);
  TableFile file;
  const std::string what = absl::StrCat("writing table file '", path, "'");
  for (it->Seek(begin); it->Valid(); it->Next()) {
    if (file.entries == 0) RETURN_IF_ERROR(FromRocks(writer.Open(path), what));
    RETURN_IF_ERROR(FromRocks(writer.Put(it->key(), it->value()), what));
    ++file.entries;
  }
  RETURN_IF_ERROR(FromRocks(it->status(), absl::StrCat("reading store '", path_, "'")));
  if (file.entries == 0) return file;
  rocksdb::ExternalSstFileInfo info;
  RETURN_IF_ERROR(FromRocks(writer.Finish(&info), what));
  file.bytes = info.file_size;
  return file;
}

absl::Status StoreDb::IngestTableFiles(Family family, const std::vector<std::string>& paths) {
  if (!is_primary()) return absl::FailedPreconditionError("ingesting needs the store's primary");
  rocksdb::ColumnFamilyHandle* handle = FamilyHandle(family);
  rocksdb::IngestExternalFileOptions options;
  options.move_files = true;
  // Callers check every byte of the files first (the repository's CRC-32C of each file, and
  // each tensor's own CRC-32C at load): RocksDB's block checksums would be a second full read of
  // a file that can be a gigabyte (a third of a pull's time).
  options.verify_checksums_before_ingest = false;
  return FromRocks(
      db_->IngestExternalFile(handle, paths, options),
      absl::StrCat("ingesting into the ", FamilyName(family), " family of '", path_, "'"));
}

}  // namespace ranker
