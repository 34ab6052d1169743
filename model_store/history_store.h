// Stored user histories: the store's "history" column family (store_keys.h), so that
// Rank(user_id) works for history models without the caller sending the history.
//
// Histories are user data with their own lifecycle, so they are not versioned with models:
// one value per user, the distinct items they interacted with, oldest first, at most `cap`.
// New interactions (kInteractions) move an item seen again to the end; a log that may repeat
// what is stored, such as the whole training log at every publish (kAddMissing), only adds
// items not stored yet, so it never pushes newer items back. Either way, appending the same
// items twice in a row changes nothing. A writer is the store's primary (one process at a
// time, as for publishing); readers are secondaries that see appended histories after their
// next CatchUp().
//
// Thread safety: Read may run concurrently with itself and with CatchUp.
#ifndef RANKER_MODEL_STORE_HISTORY_STORE_H_
#define RANKER_MODEL_STORE_HISTORY_STORE_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "common/user_history.h"
#include "model_store/store_db.h"

namespace ranker {

enum class AppendMode {
  kInteractions,  // the items are new interactions: one already stored moves to the end
  kAddMissing,    // the items may repeat stored ones: only items not stored are added
};

struct AppendStats {
  uint64_t users = 0;               // users whose history was written
  uint64_t new_users = 0;           // of those, users with no history before
  uint64_t items_read = 0;          // item ids given
  uint64_t replaced_malformed = 0;  // stored values that did not decode, overwritten
};

// New interactions and what they record about the event log, committed as one (see ApplyEvents).
struct EventBatch {
  std::vector<UserHistory> users;        // new interactions per user, oldest first
  std::vector<std::string> request_ids;  // deduplication keys, recorded with the histories
  uint64_t log_sequence = 0;             // > 0: the event-log sequence applied through
  int64_t recorded_unix_ms = 0;          // stored with each request id, for PruneRequests
  // Synced to disk before ApplyEvents returns (a Record ack promises it). A consumer of a
  // durable log may skip the fsync: the write-ahead log is still in order, so a machine crash
  // loses a suffix of batches together with their log_sequence, and the consumer replays them.
  bool sync = true;
};

struct HistoryStats {
  uint64_t users = 0;        // RocksDB's estimate of the number of keys
  uint64_t table_bytes = 0;  // on-disk bytes of the family's table files
};

class HistoryStore {
 public:
  // The primary, for appending. Creates the store when options.create_if_missing.
  // `cache_bytes` as for OpenReader.
  static absl::StatusOr<std::unique_ptr<HistoryStore>> OpenWriter(const std::string& path,
                                                                  const StoreOptions& options = {},
                                                                  size_t cache_bytes = 0);
  // A secondary with a block cache of `cache_bytes` (0 = RocksDB's default) for the history
  // family. FAILED_PRECONDITION if the store has no history family yet: a store last written
  // by an older version gains one the next time any current tool opens it read-write.
  static absl::StatusOr<std::unique_ptr<HistoryStore>> OpenReader(const std::string& path,
                                                                  size_t cache_bytes = 0);

  const std::string& path() const {
    return store_db_->path();
  }  // Writer only. Merges each user's `items` after what is stored (see AppendMode), keeping the
  // newest `cap` distinct items (cap >= 1); users without items are skipped. A stored value
  // that does not decode is replaced by the new items (and counted). Commits in batches, each
  // flushed to table files, and compacts the family when small imports have left many files;
  // a writer that dies part-way leaves whole users appended or not.
  absl::StatusOr<AppendStats> Append(const std::vector<UserHistory>& histories, size_t cap,
                                     AppendMode mode = AppendMode::kInteractions);

  // Writer only. Appends `batch.users` as new interactions (kInteractions), records its request
  // ids and log sequence, all in one WriteBatch written to the write-ahead log (synced when
  // batch.sync) before returning: a crash leaves the whole batch applied or none of it. A user with
  // no history here starts from `seed_from`'s history of them when given (a store whose histories
  // predate this one).
  absl::StatusOr<AppendStats> ApplyEvents(const EventBatch& batch, size_t cap,
                                          const HistoryStore* seed_from = nullptr);
  // Whether ApplyEvents recorded `request_id` (and PruneRequests has not dropped it since).
  absl::StatusOr<bool> RecordedRequest(const std::string& request_id) const;
  // The last log_sequence ApplyEvents recorded; 0 when none.
  absl::StatusOr<uint64_t> AppliedSequence() const;
  // Writer only. Forgets request ids recorded before `before_unix_ms`; returns how many.
  absl::StatusOr<uint64_t> PruneRequests(int64_t before_unix_ms);
  // Calls `visit` with every stored history in user id order; stops at its first error.
  absl::Status ForEach(
      const std::function<absl::Status(uint64_t user_id, const std::vector<uint64_t>& items)>&
          visit) const;

  // Replaces *items with `user_id`'s stored history, oldest first (empty when none).
  // DATA_LOSS if the stored value is malformed.
  absl::Status Read(uint64_t user_id, std::vector<uint64_t>* items)
      const;  // Reader only (OK for the writer): sees what writers committed since the last call.
  absl::Status CatchUp() { return store_db_->CatchUp(); }
  // Approximate: RocksDB's key estimate counts overwritten values until they are compacted.
  absl::StatusOr<HistoryStats> Stats() const;

 private:
  explicit HistoryStore(std::unique_ptr<StoreDb> store_db) : store_db_(std::move(store_db)) {}
  // What a merge starts from: `user_id`'s stored history into *stored (`value` is scratch);
  // when there is none, `seed_from`'s (if given). Counts a user new or a malformed value
  // replaced in *stats.
  absl::Status ReadForMerge(uint64_t user_id, const HistoryStore* seed_from, std::string* value,
                            std::vector<uint64_t>* stored, AppendStats* stats) const;

  std::unique_ptr<StoreDb> store_db_;
};

// The stored value of a history, and back: little-endian u64 ids. Decode fails (false) when
// the value is not a whole number of ids.
std::string EncodeHistory(const std::vector<uint64_t>& items);
bool DecodeHistory(const char* data, size_t size, std::vector<uint64_t>* items);

// Appends `added` to `stored` (both oldest first), keeping the newest `cap` distinct items:
// kInteractions orders them by their latest occurrence, kAddMissing keeps stored items where
// they are and adds the others in order of their latest occurrence in `added`.
std::vector<uint64_t> MergeHistory(const std::vector<uint64_t>& stored,
                                   const std::vector<uint64_t>& added, size_t cap,
                                   AppendMode mode = AppendMode::kInteractions);

}  // namespace ranker

#endif  // RANKER_MODEL_STORE_HISTORY_STORE_H_
