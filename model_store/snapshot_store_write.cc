// Publishing versions and collecting garbage: the primary's writes (see snapshot_store.h for
// the commit order that keeps readers from seeing a partial version).
#include <rocksdb/convenience.h>

#include <algorithm>
#include <ctime>
#include <limits>

#include "absl/strings/str_cat.h"
#include "common/crc32c.h"
#include "common/status_macros.h"
#include "model_store/rocks_status.h"
#include "model_store/snapshot_store.h"
#include "model_store/store_keys.h"
#include "model_store/tensor_specs.h"
#include "rocksdb/db.h"
#include "rocksdb/options.h"
#include "rocksdb/write_batch.h"

namespace ranker {
namespace keys = store_keys;

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
  RETURN_IF_ERROR(store_db_->CommitThroughTableFiles(&batch, {tensor_cf_, default_cf_},
                                                     absl::StrCat("committing version ", version)));
  return version;
}

absl::Status SnapshotStore::SetLatest(uint64_t version) {
  if (!is_primary()) return absl::FailedPreconditionError("moving latest needs the primary store");
  RETURN_IF_ERROR(ReadManifest(version).status());
  rocksdb::WriteBatch batch;
  batch.Put(default_cf_, keys::kLatestKey, keys::EncodeVersion(version));
  return store_db_->CommitThroughTableFiles(&batch, {default_cf_},
                                            absl::StrCat("moving latest to version ", version));
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
  RETURN_IF_ERROR(
      store_db_->CommitThroughTableFiles(&batch, {tensor_cf_, default_cf_}, "garbage collection"));
  RETURN_IF_ERROR(
      FromRocks(db_->CompactRange(rocksdb::CompactRangeOptions(), tensor_cf_, nullptr, nullptr),
                "compacting after garbage collection"));
  return removed;
}

absl::StatusOr<std::vector<uint64_t>> SnapshotStore::DropOldVersions(size_t keep) {
  if (!is_primary()) return absl::FailedPreconditionError("dropping versions needs the primary");
  if (keep == 0) return absl::InvalidArgumentError("at least one version must be kept");
  ASSIGN_OR_RETURN(std::vector<uint64_t> versions, ListVersions());
  if (versions.size() <= keep) return std::vector<uint64_t>();
  std::vector<uint64_t> removed(versions.begin(), versions.end() - keep);
  // Everything below the oldest kept version goes: the dropped versions, and any chunks of an
  // ingest that failed before its manifest (which no manifest would ever name).
  const std::string begin(keys::kTensorPrefix);
  const std::string end = keys::TensorRangeBegin(versions[versions.size() - keep]);
  rocksdb::WriteBatch batch;
  for (uint64_t version : removed) batch.Delete(default_cf_, keys::ManifestKey(version));
  batch.DeleteRange(tensor_cf_, begin, end);
  // Manifests flushed first: once they are gone, no reader looks for these chunks.
  RETURN_IF_ERROR(store_db_->CommitThroughTableFiles(&batch, {default_cf_, tensor_cf_},
                                                     "dropping old versions"));
  // An ingested version is one table file inside the range: deleting the files frees the disk
  // at once, where CollectGarbage's full compaction would rewrite every kept version too.
  const rocksdb::Slice begin_slice(begin), end_slice(end);
  const rocksdb::RangePtr range(&begin_slice, &end_slice);
  RETURN_IF_ERROR(
      FromRocks(rocksdb::DeleteFilesInRanges(db_, tensor_cf_, &range, 1, /*include_end=*/false),
                "deleting the table files of dropped versions"));
  return removed;
}

}  // namespace ranker
