#include "events/local_event_log.h"

#include "absl/container/flat_hash_set.h"
#include "common/log.h"

namespace ranker {

LocalEventLog::LocalEventLog(HistoryStore* store, std::function<const HistoryStore*()> seed_from,
                             LocalEventLogOptions options)
    : store_(store), seed_from_(std::move(seed_from)), options_(options) {}

absl::StatusOr<RecordOutcome> LocalEventLog::Record(
    const std::string& request_id, const std::vector<v1::UserInteractions>& users) {
  Pending mine{&request_id, &users, RecordOutcome{}};
  MutexLock lock(&mu_);
  queue_.push_back(&mine);
  while (!mine.done && committing_) committed_.Wait();
  if (mine.done) return mine.outcome;
  // This caller commits everything queued so far, its own call included.
  committing_ = true;
  std::vector<Pending*> group;
  group.swap(queue_);
  const absl::Time now = absl::Now();
  const bool prune = now >= next_prune_;
  if (prune) next_prune_ = now + options_.dedupe_window / 4;
  mu_.Unlock();
  Commit(group);
  if (prune) {
    absl::StatusOr<uint64_t> pruned =
        store_->PruneRequests(absl::ToUnixMillis(now - options_.dedupe_window));
    if (!pruned.ok()) LogWarning("forgetting old request ids: ", pruned.status().ToString());
  }
  mu_.Lock();
  committing_ = false;
  committed_.SignalAll();
  return mine.outcome;
}

void LocalEventLog::Commit(const std::vector<Pending*>& group) {
  EventBatch batch;
  batch.recorded_unix_ms = absl::ToUnixMillis(absl::Now());
  absl::flat_hash_set<std::string> ids_in_group;
  std::vector<Pending*> applied;
  for (Pending* pending : group) {
    RecordOutcome outcome;
    for (const v1::UserInteractions& user : *pending->users) {
      outcome.recorded += user.item_ids_size();
    }
    outcome.users = pending->users->size();
    const std::string& id = *pending->request_id;
    bool duplicate = false;
    if (!id.empty()) {
      absl::StatusOr<bool> recorded = store_->RecordedRequest(id);
      if (!recorded.ok()) {
        pending->outcome = recorded.status();
        continue;
      }
      duplicate = *recorded || !ids_in_group.insert(id).second;
    }
    if (duplicate) {
      outcome.duplicates = outcome.recorded;
    } else {
      if (!id.empty()) batch.request_ids.push_back(id);
      for (const v1::UserInteractions& user : *pending->users) {
        batch.users.push_back(
            UserHistory{user.user_id(), {user.item_ids().begin(), user.item_ids().end()}});
      }
      applied.push_back(pending);
    }
    pending->outcome = outcome;
  }
  absl::StatusOr<AppendStats> stats =
      store_->ApplyEvents(batch, options_.history_cap, seed_from_());
  if (!stats.ok()) {
    // Nothing of the batch is durable (one WriteBatch): every call in it fails, none is acked.
    for (Pending* pending : applied) pending->outcome = stats.status();
  }
  MutexLock lock(&mu_);
  for (Pending* pending : group) pending->done = true;
}

}  // namespace ranker
