#include "events/jetstream_event_log.h"

#include <algorithm>

#include "events/stream_message.h"

namespace ranker {

JetStreamEventLog::JetStreamEventLog(JetStreamConnection* connection, StreamApplier* applier,
                                     absl::Duration read_your_writes)
    : connection_(connection), applier_(applier), read_your_writes_(read_your_writes) {}

absl::StatusOr<RecordOutcome> JetStreamEventLog::Record(
    const std::string& request_id, const std::vector<v1::UserInteractions>& users) {
  std::vector<JetStreamConnection::OutgoingMessage> messages(users.size());
  for (size_t i = 0; i < users.size(); ++i) {
    messages[i].subject = connection_->SubjectOf(users[i].user_id());
    users[i].SerializeToString(&messages[i].data);
    messages[i].message_id = StreamMessageId(request_id, users[i].user_id());
  }
  absl::StatusOr<std::vector<JetStreamConnection::Ack>> acks = connection_->PublishBatch(messages);
  if (!acks.ok()) return acks.status();
  RecordOutcome outcome;
  uint64_t last_sequence = 0;
  for (size_t i = 0; i < users.size(); ++i) {
    outcome.recorded += users[i].item_ids_size();
    if ((*acks)[i].duplicate) outcome.duplicates += users[i].item_ids_size();
    ++outcome.users;
    last_sequence = std::max(last_sequence, (*acks)[i].sequence);
  }
  // Durable already; this only makes the caller's next Rank on this replica see the events.
  if (applier_ != nullptr) applier_->WaitApplied(last_sequence, read_your_writes_);
  return outcome;
}

}  // namespace ranker
