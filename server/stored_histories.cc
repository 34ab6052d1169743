#include "server/stored_histories.h"

#include "common/log.h"

namespace ranker {
namespace {

// A damaged history is a per-user problem and may be hit on every request for that user:
// log the first few, count all (ranker_history_lookups_total{result="error"}).
constexpr int kLoggedErrors = 10;
std::atomic<int> logged_errors{0};

bool ShouldLogError() {
  // Checked first so that the count stops growing (and cannot wrap) once the quota is used.
  return logged_errors.load(std::memory_order_relaxed) < kLoggedErrors &&
         logged_errors.fetch_add(1, std::memory_order_relaxed) < kLoggedErrors;
}

}  // namespace

StoredHistories::StoredHistories(std::string store_path, size_t cache_bytes)
    : store_path_(std::move(store_path)), cache_bytes_(cache_bytes) {}

void StoredHistories::AttachDatabase(std::unique_ptr<HistoryStore> database) {
  database_ = std::move(database);
}

HistoryLookup StoredHistories::Read(uint64_t user_id, std::vector<uint64_t>* items) const {
  items->clear();
  absl::Status status;
  if (database_ != nullptr) {
    status = database_->Read(user_id, items);
    if (status.ok() && !items->empty()) return HistoryLookup::kFound;
  }
  const HistoryStore* reader = reader_.load(std::memory_order_acquire);
  if (status.ok() && reader != nullptr) status = reader->Read(user_id, items);
  if (status.ok() && reader == nullptr && database_ == nullptr) return HistoryLookup::kUnavailable;
  if (!status.ok()) {
    items->clear();
    if (ShouldLogError()) {
      LogError("stored history of user ", user_id,
               " unusable, ranking without it: ", status.ToString());
    }
    return HistoryLookup::kError;
  }
  return items->empty() ? HistoryLookup::kAbsent : HistoryLookup::kFound;
}

absl::Status StoredHistories::Refresh() {
  MutexLock lock(&refresh_mu_);
  if (owned_ != nullptr) return owned_->CatchUp();
  absl::StatusOr<std::unique_ptr<HistoryStore>> opened =
      HistoryStore::OpenReader(store_path_, cache_bytes_);
  if (!opened.ok()) return opened.status();
  owned_ = *std::move(opened);
  reader_.store(owned_.get(), std::memory_order_release);
  LogInfo("stored histories of ", store_path_, " open (block cache ", cache_bytes_ >> 20, " MiB)");
  return absl::OkStatus();
}

}  // namespace ranker
