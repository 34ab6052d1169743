#include "tests/support/store_damage.h"

#include <memory>
#include <vector>

#include "model_store/store_keys.h"
#include "rocksdb/db.h"

namespace ranker::testing {
namespace {

// Runs `edit` on the store's RocksDB (default and tensor column families) and closes it. The
// history family is opened too (RocksDB requires every family), and created if missing.
absl::Status EditRawStore(
    const std::string& store_path,
    const std::function<rocksdb::Status(rocksdb::DB*, rocksdb::ColumnFamilyHandle* meta,
                                        rocksdb::ColumnFamilyHandle* tensors)>& edit) {
  rocksdb::DBOptions options;
  options.create_missing_column_families = true;
  std::vector<rocksdb::ColumnFamilyDescriptor> families = {
      {rocksdb::kDefaultColumnFamilyName, rocksdb::ColumnFamilyOptions()},
      {store_keys::kTensorColumnFamily, rocksdb::ColumnFamilyOptions()},
      {store_keys::kHistoryColumnFamily, rocksdb::ColumnFamilyOptions()}};
  std::vector<rocksdb::ColumnFamilyHandle*> handles;
  rocksdb::DB* raw = nullptr;
  rocksdb::Status s = rocksdb::DB::Open(options, store_path, families, &handles, &raw);
  if (!s.ok()) return absl::InternalError(s.ToString());
  std::unique_ptr<rocksdb::DB> db(raw);
  s = edit(db.get(), handles[0], handles[1]);
  for (auto* handle : handles) db->DestroyColumnFamilyHandle(handle);
  if (s.ok()) s = db->Close();
  return s.ok() ? absl::OkStatus() : absl::InternalError(s.ToString());
}

}  // namespace

absl::Status DamageChunk(const std::string& store_path, uint64_t version, const std::string& tensor,
                         uint32_t chunk, ChunkDamage damage) {
  return EditRawStore(store_path, [&](rocksdb::DB* db, rocksdb::ColumnFamilyHandle*,
                                      rocksdb::ColumnFamilyHandle* tensors) {
    const std::string key = store_keys::TensorChunkKey(version, tensor, chunk);
    std::string value;
    rocksdb::Status s = db->Get(rocksdb::ReadOptions(), tensors, key, &value);
    if (!s.ok()) return s;
    switch (damage) {
      case ChunkDamage::kFlipByte:
        value[value.size() / 2] ^= 0x10;
        return db->Put(rocksdb::WriteOptions(), tensors, key, value);
      case ChunkDamage::kDelete:
        return db->Delete(rocksdb::WriteOptions(), tensors, key);
      case ChunkDamage::kTruncate:
        value.resize(value.size() / 2);
        return db->Put(rocksdb::WriteOptions(), tensors, key, value);
    }
    return s;
  });
}

absl::Status RewriteManifest(const std::string& store_path, uint64_t version,
                             const std::function<void(std::string* bytes)>& rewrite) {
  return EditRawStore(store_path, [&](rocksdb::DB* db, rocksdb::ColumnFamilyHandle* meta,
                                      rocksdb::ColumnFamilyHandle*) {
    const std::string key = store_keys::ManifestKey(version);
    std::string value;
    rocksdb::Status s = db->Get(rocksdb::ReadOptions(), meta, key, &value);
    if (!s.ok()) return s;
    rewrite(&value);
    return db->Put(rocksdb::WriteOptions(), meta, key, value);
  });
}

}  // namespace ranker::testing
