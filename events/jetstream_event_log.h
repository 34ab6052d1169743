// The fleet's event log: Record publishes one message per user to the JetStream stream and
// returns once the broker has acknowledged every one (then they are in its file storage, and
// every replica will apply them). Each message's id is "<request_id>/<user_id>", so a retried
// request is deduplicated by the broker within its window, including a retry of a call that
// failed half-way. If `applier` is given, Record then waits (up to `read_your_writes`) for this
// replica to have applied them, so that the caller's next Rank here sees them.
#ifndef RANKER_EVENTS_JETSTREAM_EVENT_LOG_H_
#define RANKER_EVENTS_JETSTREAM_EVENT_LOG_H_

#include "events/event_log.h"
#include "events/jetstream.h"
#include "events/stream_applier.h"

namespace ranker {

class JetStreamEventLog final : public EventLog {
 public:
  // Both must outlive the log; `applier` may be null.
  JetStreamEventLog(JetStreamConnection* connection, StreamApplier* applier,
                    absl::Duration read_your_writes = absl::Seconds(1));

  absl::StatusOr<RecordOutcome> Record(const std::string& request_id,
                                       const std::vector<v1::UserInteractions>& users) override;

 private:
  JetStreamConnection* const connection_;
  StreamApplier* const applier_;
  const absl::Duration read_your_writes_;
};

}  // namespace ranker

#endif  // RANKER_EVENTS_JETSTREAM_EVENT_LOG_H_
