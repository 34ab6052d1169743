// The fleet's event log on NATS JetStream: one stream of v1::UserInteractions messages, one
// subject per user ("<prefix>.<user_id>"), file storage, at most `max_msgs_per_subject`
// messages kept per user (the history cap: each message holds at least one interaction, so
// the newest cap interactions of every user stay replayable), and the broker's deduplication
// by the Nats-Msg-Id header within `duplicate_window`.
//
// JetStreamConnection keeps one connection that reconnects in the background for as long as
// the process runs; calls made while the broker is away fail UNAVAILABLE at once or within
// `publish_timeout`, never later.
#ifndef RANKER_EVENTS_JETSTREAM_H_
#define RANKER_EVENTS_JETSTREAM_H_

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace ranker {

struct JetStreamOptions {
  std::string url = "nats://127.0.0.1:4222";
  std::string stream = "RANKER_EVENTS";
  std::string subject_prefix = "ranker.events";
  int64_t max_msgs_per_subject = 200;
  absl::Duration duplicate_window = absl::Minutes(10);
  int32_t max_message_bytes = 1 << 20;
  absl::Duration publish_timeout = absl::Seconds(5);
};

// A message as a consumer receives it.
struct StreamMessage {
  uint64_t sequence = 0;  // the stream's sequence number
  uint64_t pending = 0;   // messages in the stream after this one, not delivered yet
  int64_t published_unix_ns = 0;
  std::string subject;
  std::string data;
};

class JetStreamSubscription;

class JetStreamConnection {
 public:
  // Starts connecting; succeeds even while the broker is down (the connection keeps trying).
  // Errors: a malformed URL or options.
  static absl::StatusOr<std::unique_ptr<JetStreamConnection>> Connect(JetStreamOptions options);
  ~JetStreamConnection();
  JetStreamConnection(const JetStreamConnection&) = delete;
  JetStreamConnection& operator=(const JetStreamConnection&) = delete;

  const JetStreamOptions& options() const { return options_; }
  std::string SubjectOf(uint64_t user_id) const;
  bool connected() const;

  // Creates the stream with the options above if the broker has none of that name (an existing
  // one is used as it is). UNAVAILABLE while the broker is away.
  absl::Status EnsureStream();

  struct Ack {
    uint64_t sequence = 0;
    bool duplicate = false;  // the broker had a message with this id already
  };
  // Publishes and waits for the broker's acknowledgement (the message is then in the stream's
  // file storage). Empty `message_id`: not deduplicated. Thread-safe.
  absl::StatusOr<Ack> Publish(const std::string& subject, const std::string& data,
                              const std::string& message_id);

  struct OutgoingMessage {
    std::string subject;
    std::string data;
    std::string message_id;  // empty: not deduplicated
  };
  // Publishes every message without waiting between them, then waits for all the broker's
  // acknowledgements (one round trip for the batch instead of one per message). Returns the
  // acks in the order of `messages`, or the first error; on an error some of the messages may
  // be in the stream (their ids make a retry of the whole batch safe). Thread-safe.
  absl::StatusOr<std::vector<Ack>> PublishBatch(const std::vector<OutgoingMessage>& messages);

  // An ordered subscription to every subject of the stream, from `start_sequence` (0 or 1: the
  // first message kept).
  absl::StatusOr<std::unique_ptr<JetStreamSubscription>> Subscribe(uint64_t start_sequence);

 private:
  struct Handles;
  explicit JetStreamConnection(JetStreamOptions options);

  const JetStreamOptions options_;
  std::unique_ptr<Handles> handles_;
};

class JetStreamSubscription {
 public:
  ~JetStreamSubscription();
  // The next message, waiting up to `timeout`. DEADLINE_EXCEEDED when none came; UNAVAILABLE
  // when the subscription broke (the broker restarted and forgot it: subscribe again).
  absl::StatusOr<StreamMessage> Next(absl::Duration timeout);
  // Messages received and not taken by Next yet.
  int Buffered() const;

 private:
  friend class JetStreamConnection;
  struct Handles;
  explicit JetStreamSubscription(std::unique_ptr<Handles> handles);
  std::unique_ptr<Handles> handles_;
};

}  // namespace ranker

#endif  // RANKER_EVENTS_JETSTREAM_H_
