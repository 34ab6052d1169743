// The one-machine event log: Record applies the interactions to the server's own history
// database (model_store/history_store.h) and returns once they are synced to its write-ahead
// log, so the next Rank on this server sees them and a restart keeps them.
//
// Concurrent calls commit together (group commit: the first caller to find no commit running
// commits everything queued, one fsync for all), so throughput grows with concurrency instead of
// being one fsync per call. Request ids are kept for `dedupe_window` and checked inside the
// commit, so two concurrent calls with one id apply once.
#ifndef RANKER_EVENTS_LOCAL_EVENT_LOG_H_
#define RANKER_EVENTS_LOCAL_EVENT_LOG_H_

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "absl/time/time.h"
#include "common/mutex.h"
#include "events/event_log.h"
#include "model_store/history_store.h"

namespace ranker {

struct LocalEventLogOptions {
  size_t history_cap = 200;  // distinct items kept per user
  absl::Duration dedupe_window = absl::Minutes(10);
};

class LocalEventLog final : public EventLog {
 public:
  // `store` is the history database's writer; `seed_from` gives the store whose older histories
  // seed users new to it (may return nullptr). Both must outlive the log.
  LocalEventLog(HistoryStore* store, std::function<const HistoryStore*()> seed_from,
                LocalEventLogOptions options);

  absl::StatusOr<RecordOutcome> Record(const std::string& request_id,
                                       const std::vector<v1::UserInteractions>& users) override;

 private:
  struct Pending {
    const std::string* request_id;
    const std::vector<v1::UserInteractions>* users;
    absl::StatusOr<RecordOutcome> outcome;
    bool done = false;
  };
  // Applies `group` in one batch and sets each one's outcome. Runs with mu_ released.
  void Commit(const std::vector<Pending*>& group);

  HistoryStore* const store_;
  const std::function<const HistoryStore*()> seed_from_;
  const LocalEventLogOptions options_;
  Mutex mu_;
  CondVar committed_{&mu_};
  std::vector<Pending*> queue_ ABSL_GUARDED_BY(mu_);
  bool committing_ ABSL_GUARDED_BY(mu_) = false;
  absl::Time next_prune_ ABSL_GUARDED_BY(mu_) = absl::InfinitePast();
};

}  // namespace ranker

#endif  // RANKER_EVENTS_LOCAL_EVENT_LOG_H_
