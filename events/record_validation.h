// What a Record call may carry, and the per-user batches it becomes. Validation is all or
// nothing: a request with one bad interaction is refused whole, so that a retry of the fixed
// request cannot half-duplicate the first attempt.
#ifndef RANKER_EVENTS_RECORD_VALIDATION_H_
#define RANKER_EVENTS_RECORD_VALIDATION_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "proto/ranker.pb.h"

namespace ranker {

struct RecordLimits {
  uint32_t max_interactions = 10000;  // per request
  uint32_t max_request_id_bytes = 128;
  // Interactions stamped later than now + this are refused (clock skew is allowed for).
  absl::Duration max_future = absl::Minutes(5);
};

// Ids at or above this are refused: no log format the project reads produces them, so they
// are a producer's bug (a negative number cast to unsigned, uninitialised memory).
inline constexpr uint64_t kMaxEventId = uint64_t{1} << 63;

// INVALID_ARGUMENT naming the first problem: no interactions, more than max_interactions, a
// request id too long, an id >= kMaxEventId, a negative time or one beyond now + max_future,
// or fields this server does not know (a newer client's, which it would silently drop).
absl::Status ValidateRecordRequest(const v1::RecordRequest& request, const RecordLimits& limits,
                                   int64_t now_unix_ms);

// The request's interactions grouped by user in order of each user's first interaction, items
// in request order, a zero timestamp replaced by `now_unix_ms`: the event log's messages.
std::vector<v1::UserInteractions> GroupByUser(const v1::RecordRequest& request,
                                              int64_t now_unix_ms);

// The checks above for one event-log message, as a consumer meets it (it may come from any
// publisher): INVALID_ARGUMENT naming the problem; `max_items` bounds its length.
absl::Status ValidateUserInteractions(const v1::UserInteractions& message, uint32_t max_items,
                                      int64_t max_unix_ms);

}  // namespace ranker

#endif  // RANKER_EVENTS_RECORD_VALIDATION_H_
