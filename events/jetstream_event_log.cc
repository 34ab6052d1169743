#include "events/jetstream_event_log.h"

#include <algorithm>

#include "events/stream_message.h"

namespace ranker {

JetStreamEventLog::JetStreamEventLog(JetStreamConnection* connection, StreamApplier* applier,
                                     absl::Duration read_your_writes)
    : connection_(connection), applier_(applier), read_your_writes_(read_your_writes) {}

absl::StatusOr<RecordOutcome> JetStreamEventLog::Record(
    const std::string& request_id, const std::vector<v1::UserInteractions>& users) {
  RecordOutcome outcome;
  uint64_t last_sequence = 0;
  std::string data;
  for (const v1::UserInteractions& user : users) {
    user.SerializeToString(&data);
    absl::StatusOr<JetStreamConnection::Ack> ack = connection_->Publish(
        connection_->SubjectOf(user.user_id()), data, StreamMessageId(request_id, user.user_id()));
    if (!ack.ok()) return ack.status();
    outcome.recorded += user.item_ids_size();
    if (ack->duplicate) outcome.duplicates += user.item_ids_size();
    ++outcome.users;
    last_sequence = std::max(last_sequence, ack->sequence);
  }
  // Durable already; this only makes the caller's next Rank on this replica see the events.
  if (applier_ != nullptr) applier_->WaitApplied(last_sequence, read_your_writes_);
  return outcome;
}

}  // namespace ranker
