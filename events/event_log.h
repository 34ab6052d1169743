// Where a Record call's interactions go: applied to this server's own history database (one
// machine, LocalEventLog) or published to the fleet's stream (JetStreamEventLog), from which
// every replica applies them.
#ifndef RANKER_EVENTS_EVENT_LOG_H_
#define RANKER_EVENTS_EVENT_LOG_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "proto/ranker.pb.h"

namespace ranker {

struct RecordOutcome {
  uint64_t recorded = 0;    // interactions acknowledged
  uint64_t duplicates = 0;  // of those, ones whose request was recorded before
  uint64_t users = 0;
};

class EventLog {
 public:
  virtual ~EventLog() = default;
  // Makes one request's interactions (grouped by user, as GroupByUser gives them) durable and
  // returns once they are. A non-empty `request_id` recorded before, within the deduplication
  // window, makes the call a duplicate: acknowledged again, applied once. UNAVAILABLE when the
  // log cannot take the events now (nothing was acknowledged; the caller may retry).
  // Thread-safe.
  virtual absl::StatusOr<RecordOutcome> Record(const std::string& request_id,
                                               const std::vector<v1::UserInteractions>& users) = 0;
};

}  // namespace ranker

#endif  // RANKER_EVENTS_EVENT_LOG_H_
