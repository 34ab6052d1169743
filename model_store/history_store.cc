#include "model_store/history_store.h"

#include <algorithm>
#include <optional>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_cat.h"
#include "common/status_macros.h"
#include "model_store/rocks_status.h"
#include "model_store/store_keys.h"
#include "rocksdb/db.h"
#include "rocksdb/write_batch.h"

namespace ranker {
namespace keys = store_keys;

namespace {

// Bounds a batch's memory; each batch costs one flush (one small table file).
constexpr size_t kBatchBytes = size_t{32} << 20;
// Writers are short-lived tools, whose background compactions may not finish before they
// exit; past this many level-0 files (each a file every lookup may probe) Append compacts.
constexpr uint64_t kMaxLevel0Files = 4;
}  // namespace

std::string EncodeHistory(const std::vector<uint64_t>& items) {
  std::string out(items.size() * sizeof(uint64_t), '\0');
  for (size_t i = 0; i < items.size(); ++i) {
    for (size_t b = 0; b < sizeof(uint64_t); ++b) {
      out[i * sizeof(uint64_t) + b] = static_cast<char>((items[i] >> (8 * b)) & 0xFF);
    }
  }
  return out;
}

bool DecodeHistory(const char* data, size_t size, std::vector<uint64_t>* items) {
  items->clear();
  if (size % sizeof(uint64_t) != 0) return false;
  items->resize(size / sizeof(uint64_t));
  const auto* bytes = reinterpret_cast<const unsigned char*>(data);
  for (size_t i = 0; i < items->size(); ++i) {
    uint64_t value = 0;
    for (size_t b = 0; b < sizeof(uint64_t); ++b) {
      value |= uint64_t{bytes[i * sizeof(uint64_t) + b]} << (8 * b);
    }
    (*items)[i] = value;
  }
  return true;
}

std::vector<uint64_t> MergeHistory(const std::vector<uint64_t>& stored,
                                   const std::vector<uint64_t>& added, size_t cap,
                                   AppendMode mode) {
  // Walk newest to oldest, keeping each item's latest occurrence, until `cap` are kept.
  // Under kAddMissing the stored items are claimed first, so `added` cannot move them.
  std::vector<uint64_t> newest_first;
  absl::flat_hash_set<uint64_t> kept;
  const bool keep_stored_places = mode == AppendMode::kAddMissing;
  if (keep_stored_places) kept.insert(stored.begin(), stored.end());
  for (auto it = added.rbegin(); it != added.rend() && newest_first.size() < cap; ++it) {
    if (kept.insert(*it).second) newest_first.push_back(*it);
  }
  for (auto it = stored.rbegin(); it != stored.rend() && newest_first.size() < cap; ++it) {
    if (keep_stored_places || kept.insert(*it).second) newest_first.push_back(*it);
  }
  return std::vector<uint64_t>(newest_first.rbegin(), newest_first.rend());
}

absl::StatusOr<std::unique_ptr<HistoryStore>> HistoryStore::OpenWriter(const std::string& path,
                                                                       const StoreOptions& options,
                                                                       size_t cache_bytes) {
  ASSIGN_OR_RETURN(std::unique_ptr<StoreDb> store_db,
                   StoreDb::Open(path, options, StoreDb::Role::kPrimary,
                                 StoreDb::OpenFor::kHistories, cache_bytes));
  return std::unique_ptr<HistoryStore>(new HistoryStore(std::move(store_db)));
}

absl::StatusOr<std::unique_ptr<HistoryStore>> HistoryStore::OpenReader(const std::string& path,
                                                                       size_t cache_bytes) {
  ASSIGN_OR_RETURN(std::unique_ptr<StoreDb> store_db,
                   StoreDb::Open(path, StoreOptions(), StoreDb::Role::kSecondary,
                                 StoreDb::OpenFor::kHistories, cache_bytes));
  return std::unique_ptr<HistoryStore>(new HistoryStore(std::move(store_db)));
}

absl::Status HistoryStore::ReadForMerge(uint64_t user_id, const HistoryStore* seed_from,
                                        std::string* value, std::vector<uint64_t>* stored,
                                        AppendStats* stats) const {
  rocksdb::Status s = store_db_->db()->Get(rocksdb::ReadOptions(), store_db_->history_family(),
                                           keys::HistoryKey(user_id), value);
  if (s.IsNotFound()) {
    stored->clear();
    if (seed_from != nullptr) RETURN_IF_ERROR(seed_from->Read(user_id, stored));
    if (stored->empty()) ++stats->new_users;
    return absl::OkStatus();
  }
  RETURN_IF_ERROR(FromRocks(s, absl::StrCat("reading the history of user ", user_id)));
  if (!DecodeHistory(value->data(), value->size(), stored)) {
    // Unusable for serving anyway: the new items are all that can be kept.
    stored->clear();
    ++stats->replaced_malformed;
  }
  return absl::OkStatus();
}

absl::StatusOr<AppendStats> HistoryStore::Append(const std::vector<UserHistory>& histories,
                                                 size_t cap, AppendMode mode) {
  if (!store_db_->is_primary()) {
    return absl::FailedPreconditionError("appending histories needs the primary store");
  }
  if (cap == 0) return absl::InvalidArgumentError("the history cap must be >= 1");
  // One merge per user even when the input names a user many times, in key order.
  absl::flat_hash_map<uint64_t, std::vector<uint64_t>> by_user;
  AppendStats stats;
  for (const UserHistory& history : histories) {
    if (history.items.empty()) continue;
    std::vector<uint64_t>& items = by_user[history.user_id];
    items.insert(items.end(), history.items.begin(), history.items.end());
    stats.items_read += history.items.size();
  }
  std::vector<uint64_t> users;
  users.reserve(by_user.size());
  for (const auto& [user, items] : by_user) users.push_back(user);
  std::sort(users.begin(), users.end());

  rocksdb::DB* db = store_db_->db();
  rocksdb::ColumnFamilyHandle* family = store_db_->history_family();
  rocksdb::WriteBatch batch;
  const auto commit = [&]() -> absl::Status {
    if (batch.Count() == 0) return absl::OkStatus();
    RETURN_IF_ERROR(store_db_->CommitThroughTableFiles(&batch, {family}, "appending histories"));
    batch.Clear();
    return absl::OkStatus();
  };
  std::string value;
  std::vector<uint64_t> stored;
  for (uint64_t user : users) {
    const std::string key = keys::HistoryKey(user);
    RETURN_IF_ERROR(ReadForMerge(user, nullptr, &value, &stored, &stats));
    batch.Put(family, key, EncodeHistory(MergeHistory(stored, by_user[user], cap, mode)));
    ++stats.users;
    if (batch.GetDataSize() >= kBatchBytes) RETURN_IF_ERROR(commit());
  }
  RETURN_IF_ERROR(commit());
  uint64_t level0_files = 0;
  if (db->GetIntProperty(family, "rocksdb.num-files-at-level0", &level0_files) &&
      level0_files > kMaxLevel0Files) {
    RETURN_IF_ERROR(
        FromRocks(db->CompactRange(rocksdb::CompactRangeOptions(), family, nullptr, nullptr),
                  "compacting the histories"));
  }
  return stats;
}

absl::StatusOr<AppendStats> HistoryStore::ApplyEvents(const EventBatch& batch, size_t cap,
                                                      const HistoryStore* seed_from) {
  if (!store_db_->is_primary()) {
    return absl::FailedPreconditionError("applying events needs the primary store");
  }
  if (cap == 0) return absl::InvalidArgumentError("the history cap must be >= 1");
  // Users in order of first appearance, each with their items in log order.
  absl::flat_hash_map<uint64_t, std::vector<uint64_t>> by_user;
  std::vector<uint64_t> users;
  AppendStats stats;
  for (const UserHistory& history : batch.users) {
    if (history.items.empty()) continue;
    auto [it, inserted] = by_user.try_emplace(history.user_id);
    if (inserted) users.push_back(history.user_id);
    it->second.insert(it->second.end(), history.items.begin(), history.items.end());
    stats.items_read += history.items.size();
  }
  rocksdb::DB* db = store_db_->db();
  rocksdb::ColumnFamilyHandle* family = store_db_->history_family();
  rocksdb::WriteBatch write;
  std::string value;
  std::vector<uint64_t> stored;
  for (uint64_t user : users) {
    const std::string key = keys::HistoryKey(user);
    RETURN_IF_ERROR(ReadForMerge(user, seed_from, &value, &stored, &stats));
    write.Put(family, key,
              EncodeHistory(MergeHistory(stored, by_user[user], cap, AppendMode::kInteractions)));
    ++stats.users;
  }
  const std::string recorded = keys::EncodeVersion(static_cast<uint64_t>(batch.recorded_unix_ms));
  for (const std::string& id : batch.request_ids) {
    write.Put(store_db_->default_family(), keys::RequestKey(id), recorded);
  }
  if (batch.log_sequence > 0) {
    write.Put(store_db_->default_family(), keys::kAppliedSequenceKey,
              keys::EncodeVersion(batch.log_sequence));
  }
  if (write.Count() == 0) return stats;
  rocksdb::WriteOptions durable;
  durable.sync = batch.sync;
  RETURN_IF_ERROR(FromRocks(db->Write(durable, &write), "applying events to the histories"));
  return stats;
}

absl::StatusOr<bool> HistoryStore::RecordedRequest(const std::string& request_id) const {
  rocksdb::PinnableSlice value;
  rocksdb::Status s = store_db_->db()->Get(rocksdb::ReadOptions(), store_db_->default_family(),
                                           keys::RequestKey(request_id), &value);
  if (s.IsNotFound()) return false;
  RETURN_IF_ERROR(FromRocks(s, "reading a request id"));
  return true;
}

absl::StatusOr<uint64_t> HistoryStore::AppliedSequence() const {
  std::string value;
  rocksdb::Status s = store_db_->db()->Get(rocksdb::ReadOptions(), store_db_->default_family(),
                                           keys::kAppliedSequenceKey, &value);
  if (s.IsNotFound()) return uint64_t{0};
  RETURN_IF_ERROR(FromRocks(s, "reading the applied event sequence"));
  std::optional<uint64_t> sequence = keys::DecodeVersion(value);
  if (!sequence) {
    return absl::DataLossError(
        absl::StrCat("the applied event sequence is ", value.size(), " bytes, not 8"));
  }
  return *sequence;
}

absl::StatusOr<uint64_t> HistoryStore::PruneRequests(int64_t before_unix_ms) {
  if (!store_db_->is_primary()) {
    return absl::FailedPreconditionError("pruning request ids needs the primary store");
  }
  std::unique_ptr<rocksdb::Iterator> it(
      store_db_->db()->NewIterator(rocksdb::ReadOptions(), store_db_->default_family()));
  rocksdb::WriteBatch write;
  const std::string prefix = keys::kRequestPrefix;
  for (it->Seek(prefix); it->Valid() && it->key().starts_with(prefix); it->Next()) {
    std::optional<uint64_t> recorded =
        keys::DecodeVersion(absl::string_view(it->value().data(), it->value().size()));
    // An unreadable time is as good as expired: the id is only a retry guard.
    if (!recorded || static_cast<int64_t>(*recorded) < before_unix_ms)
      write.Delete(store_db_->default_family(), it->key());
  }
  RETURN_IF_ERROR(FromRocks(it->status(), "listing request ids"));
  if (write.Count() == 0) return uint64_t{0};
  RETURN_IF_ERROR(FromRocks(store_db_->db()->Write(rocksdb::WriteOptions(), &write),
                            "forgetting old request ids"));
  return uint64_t{write.Count()};
}

absl::Status HistoryStore::ForEach(
    const std::function<absl::Status(uint64_t user_id, const std::vector<uint64_t>& items)>& visit)
    const {
  std::unique_ptr<rocksdb::Iterator> it(
      store_db_->db()->NewIterator(rocksdb::ReadOptions(), store_db_->history_family()));
  std::vector<uint64_t> items;
  for (it->SeekToFirst(); it->Valid(); it->Next()) {
    std::optional<uint64_t> user =
        keys::ParseHistoryKey(absl::string_view(it->key().data(), it->key().size()));
    if (!user) continue;  // not a history key; nothing else lives in this family
    if (!DecodeHistory(it->value().data(), it->value().size(), &items)) {
      return absl::DataLossError(absl::StrCat("the stored history of user ", *user, " is ",
                                              it->value().size(), " bytes, not whole 8-byte ids"));
    }
    RETURN_IF_ERROR(visit(*user, items));
  }
  return FromRocks(it->status(), "listing the histories");
}

absl::Status HistoryStore::Read(uint64_t user_id, std::vector<uint64_t>* items) const {
  rocksdb::PinnableSlice value;
  rocksdb::Status s = store_db_->db()->Get(rocksdb::ReadOptions(), store_db_->history_family(),
                                           keys::HistoryKey(user_id), &value);
  if (s.IsNotFound()) {
    items->clear();
    return absl::OkStatus();
  }
  RETURN_IF_ERROR(FromRocks(s, absl::StrCat("reading the history of user ", user_id)));
  if (!DecodeHistory(value.data(), value.size(), items)) {
    return absl::DataLossError(absl::StrCat("the stored history of user ", user_id, " is ",
                                            value.size(), " bytes, not whole 8-byte ids"));
  }
  return absl::OkStatus();
}

absl::StatusOr<HistoryStats> HistoryStore::Stats() const {
  HistoryStats stats;
  rocksdb::DB* db = store_db_->db();
  db->GetIntProperty(store_db_->history_family(), "rocksdb.estimate-num-keys", &stats.users);
  db->GetIntProperty(store_db_->history_family(), "rocksdb.total-sst-files-size",
                     &stats.table_bytes);
  return stats;
}

}  // namespace ranker
