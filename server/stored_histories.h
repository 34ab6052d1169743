// The request path's view of the store's user histories (model_store/history_store.h): a
// RocksDB secondary of its own, with a bounded block cache, read by point lookups and caught
// up with the store by Refresh(), which the server runs after every model poll. A store that
// has no history family yet is retried at each Refresh.
//
// Thread-safe: Read runs on request threads concurrently with Refresh.
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

 private:
  const std::string store_path_;
  const size_t cache_bytes_;
  Mutex refresh_mu_;
  std::unique_ptr<HistoryStore> owned_ ABSL_GUARDED_BY(refresh_mu_);
  // Set once, when the reader opens; readers never see it change after that.
  std::atomic<const HistoryStore*> reader_{nullptr};
};

}  // namespace ranker

#endif  // RANKER_SERVER_STORED_HISTORIES_H_
