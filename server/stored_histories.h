// The request path's view of the stored user histories. Two places, newest first:
// - the server's own history database (AttachDatabase), which its event log writes: Record
//   calls on one machine, the fleet's stream on a replica. A user found there is served from it.
// - the model store's history family (model_store/history_store.h), written by
//   `ranker-store history import` and `ranker-train --publish` and shipped with exports before
//   histories had their own database: a RocksDB secondary of its own, with a bounded block
//   cache, caught up by Refresh(), which the server runs after every model poll. A store that
//   has no history family yet is retried at each Refresh. The event log seeds a user new to the
//   database from here, so a recorded interaction extends the history the user had.
//
#ifndef RANKER_SERVER_STORED_HISTORIES_H_
#define RANKER_SERVER_STORED_HISTORIES_H_

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "common/mutex.h"
#include "model_store/history_store.h"
#include "server/history_lookup.h"
namespace ranker {

class StoredHistories {
 public:
  StoredHistories(std::string store_path, size_t cache_bytes);

  // Replaces *items with the user's stored history, oldest first (empty unless kFound).
  HistoryLookup Read(uint64_t user_id, std::vector<uint64_t>* items) const;

  // Opens the reader if it is not open yet, else catches up with the store's primary.
  absl::Status Refresh();

  // Reads `database` first from now on. Call before serving; at most once.
  void AttachDatabase(std::unique_ptr<HistoryStore> database);
  // The attached database (nullptr if none), for the event log that writes it.
  HistoryStore* database() const { return database_.get(); }
  // The store's history family once open (nullptr before).
  const HistoryStore* store_histories() const { return reader_.load(std::memory_order_acquire); }

 private:
  const std::string store_path_;
  const size_t cache_bytes_;
  Mutex refresh_mu_;
  std::unique_ptr<HistoryStore> owned_ ABSL_GUARDED_BY(refresh_mu_);
  // Set once, when the reader opens; readers never see it change after that.
  std::atomic<const HistoryStore*> reader_{nullptr};
  std::unique_ptr<HistoryStore> database_;
};

}  // namespace ranker

#endif  // RANKER_SERVER_STORED_HISTORIES_H_
