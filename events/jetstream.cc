#include "events/jetstream.h"

#include <nats/nats.h>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"

namespace ranker {
namespace {

absl::Status NatsError(natsStatus status, absl::string_view what,
                       jsErrCode js_error = jsErrCode(0)) {
  const std::string text =
      absl::StrCat(what, ": ", natsStatus_GetText(status),
                   js_error != 0 ? absl::StrCat(" (JetStream error ", js_error, ")") : "");
  switch (status) {
    case NATS_TIMEOUT:
    case NATS_NO_RESPONDERS:
    case NATS_NOT_YET_CONNECTED:
    case NATS_CONNECTION_CLOSED:
    case NATS_CONNECTION_DISCONNECTED:
    case NATS_NO_SERVER:
    case NATS_STALE_CONNECTION:
    case NATS_IO_ERROR:
    case NATS_MISSED_HEARTBEAT:
      return absl::UnavailableError(text);
    case NATS_INSUFFICIENT_BUFFER:  // publishing while reconnecting, with no reconnect buffer
      return absl::UnavailableError(
          absl::StrCat(what, ": the event broker is unreachable (reconnecting); retry"));
    case NATS_INVALID_ARG:
      return absl::InvalidArgumentError(text);
    default:
      return absl::InternalError(text);
  }
}

}  // namespace

// One PublishBatch call's acknowledgements, filled in by the library's thread.
struct PendingBatch {
  std::vector<JetStreamConnection::Ack> acks;
  size_t outstanding = 0;
  absl::Status status;
};

struct JetStreamConnection::Handles {
  natsOptions* options = nullptr;
  natsConnection* connection = nullptr;
  jsCtx* js = nullptr;
  // Messages published asynchronously and not acknowledged yet, by the library's message
  // pointer (it stays allocated until the acknowledgement callback returns, so it cannot be
  // reused while listed), with the batch and position they belong to. One mutex for the map
  // and every batch's state: a callback that found its batch here can fill it in before the
  // waiting caller can give up on it and return.
  absl::Mutex pending_mutex;
  absl::flat_hash_map<const natsMsg*, std::pair<PendingBatch*, size_t>> pending
      ABSL_GUARDED_BY(pending_mutex);

  static void OnPublishAck(jsCtx* /*js*/, natsMsg* message, jsPubAck* ack, jsPubAckErr* error,
                           void* closure) {
    auto* self = static_cast<Handles*>(closure);
    {
      absl::MutexLock lock(&self->pending_mutex);
      auto it = self->pending.find(message);
      if (it != self->pending.end()) {  // else its caller gave up waiting
        auto [batch, index] = it->second;
        self->pending.erase(it);
        if (error != nullptr) {
          if (batch->status.ok()) {
            batch->status = NatsError(error->Err, "publishing to the event stream", error->ErrCode);
          }
        } else if (ack != nullptr) {
          batch->acks[index] = JetStreamConnection::Ack{ack->Sequence, ack->Duplicate};
        }
        --batch->outstanding;
      }
    }
    // The handler owns the message (nats.h, jsPubAckHandler): destroyed here on every path,
    // after its entry is gone, so its address cannot be listed again while still listed.
    natsMsg_Destroy(message);
  }

  ~Handles() {
    if (js != nullptr) jsCtx_Destroy(js);
    if (connection != nullptr) natsConnection_Destroy(connection);
    if (options != nullptr) natsOptions_Destroy(options);
  }
};

struct JetStreamSubscription::Handles {
  natsSubscription* subscription = nullptr;
  ~Handles() {
    if (subscription != nullptr) {
      natsSubscription_Unsubscribe(subscription);
      natsSubscription_Destroy(subscription);
    }
  }
};

JetStreamConnection::JetStreamConnection(JetStreamOptions options)
    : options_(std::move(options)), handles_(std::make_unique<Handles>()) {}

JetStreamConnection::~JetStreamConnection() {
  // Acks of publishes whose callers gave up may still come in and run OnPublishAck against
  // Handles: let them (up to a second) before the connection and Handles go.
  if (handles_->js != nullptr) {
    jsPubOptions wait;
    jsPubOptions_Init(&wait);
    wait.MaxWait = 1000;
    js_PublishAsyncComplete(handles_->js, &wait);
  }
  if (handles_->connection != nullptr) natsConnection_Close(handles_->connection);
}

absl::StatusOr<std::unique_ptr<JetStreamConnection>> JetStreamConnection::Connect(
    JetStreamOptions options) {
  std::unique_ptr<JetStreamConnection> self(new JetStreamConnection(std::move(options)));
  Handles& h = *self->handles_;
  natsStatus s = natsOptions_Create(&h.options);
  if (s == NATS_OK) s = natsOptions_SetURL(h.options, self->options_.url.c_str());
  if (s == NATS_OK) s = natsOptions_SetTimeout(h.options, 2000);
  if (s == NATS_OK) s = natsOptions_SetMaxReconnect(h.options, -1);  // forever
  if (s == NATS_OK) s = natsOptions_SetReconnectWait(h.options, 250);
  // Publishes made while disconnected fail at once instead of piling up in a buffer the
  // caller cannot see: an unacknowledged Record must be retried by its client, not by us.
  if (s == NATS_OK) s = natsOptions_SetReconnectBufSize(h.options, 0);
  if (s == NATS_OK) s = natsOptions_SetRetryOnFailedConnect(h.options, true, nullptr, nullptr);
  if (s != NATS_OK) return NatsError(s, "NATS options");
  s = natsConnection_Connect(&h.connection, h.options);
  if (s != NATS_OK && s != NATS_NOT_YET_CONNECTED) {
    return NatsError(s, absl::StrCat("connecting to ", self->options_.url));
  }
  jsOptions js_options;
  jsOptions_Init(&js_options);
  js_options.Wait = absl::ToInt64Milliseconds(self->options_.publish_timeout);
  js_options.PublishAsync.AckHandler = &Handles::OnPublishAck;
  js_options.PublishAsync.AckHandlerClosure = &h;
  js_options.PublishAsync.MaxPending = 1 << 16;
  s = natsConnection_JetStream(&h.js, h.connection, &js_options);
  if (s != NATS_OK) return NatsError(s, "JetStream context");
  return self;
}

std::string JetStreamConnection::SubjectOf(uint64_t user_id) const {
  return absl::StrCat(options_.subject_prefix, ".", user_id);
}

bool JetStreamConnection::connected() const {
  return natsConnection_Status(handles_->connection) == NATS_CONN_STATUS_CONNECTED;
}

absl::Status JetStreamConnection::EnsureStream() {
  jsStreamInfo* info = nullptr;
  jsErrCode js_error = jsErrCode(0);
  natsStatus s = js_GetStreamInfo(&info, handles_->js, options_.stream.c_str(), nullptr, &js_error);
  if (s == NATS_OK) {
    jsStreamInfo_Destroy(info);
    return absl::OkStatus();
  }
  if (s != NATS_NOT_FOUND) return NatsError(s, "looking up the event stream", js_error);
  const std::string subjects = absl::StrCat(options_.subject_prefix, ".>");
  const char* subject_list[] = {subjects.c_str()};
  jsStreamConfig config;
  jsStreamConfig_Init(&config);
  config.Name = options_.stream.c_str();
  config.Subjects = subject_list;
  config.SubjectsLen = 1;
  config.Storage = js_FileStorage;
  config.Retention = js_LimitsPolicy;
  config.Discard = js_DiscardOld;
  config.MaxMsgsPerSubject = options_.max_msgs_per_subject;
  config.MaxMsgSize = options_.max_message_bytes;
  config.Duplicates = absl::ToInt64Nanoseconds(options_.duplicate_window);
  s = js_AddStream(&info, handles_->js, &config, nullptr, &js_error);
  if (s != NATS_OK) return NatsError(s, "creating the event stream", js_error);
  jsStreamInfo_Destroy(info);
  return absl::OkStatus();
}

absl::StatusOr<JetStreamConnection::Ack> JetStreamConnection::Publish(
    const std::string& subject, const std::string& data, const std::string& message_id) {
  absl::StatusOr<std::vector<Ack>> acks = PublishBatch({{subject, data, message_id}});
  if (!acks.ok()) return acks.status();
  return acks->front();
}

absl::StatusOr<std::vector<JetStreamConnection::Ack>> JetStreamConnection::PublishBatch(
    const std::vector<OutgoingMessage>& messages) {
  PendingBatch batch;
  batch.acks.resize(messages.size());
  Handles& h = *handles_;
  jsPubOptions publish_options;
  jsPubOptions_Init(&publish_options);
  publish_options.MaxWait = absl::ToInt64Milliseconds(options_.publish_timeout);
  publish_options.ExpectStream = options_.stream.c_str();
  absl::Status publish_status;
  for (size_t i = 0; i < messages.size() && publish_status.ok(); ++i) {
    const OutgoingMessage& outgoing = messages[i];
    natsMsg* message = nullptr;
    natsStatus s = natsMsg_Create(&message, outgoing.subject.c_str(), nullptr, outgoing.data.data(),
                                  static_cast<int>(outgoing.data.size()));
    if (s == NATS_OK && !outgoing.message_id.empty()) {
      s = natsMsgHeader_Set(message, "Nats-Msg-Id", outgoing.message_id.c_str());
    }
    if (s != NATS_OK) {
      natsMsg_Destroy(message);
      publish_status = NatsError(s, "building an event message");
      break;
    }
    {
      // Listed before it is sent: its acknowledgement may come back before the call returns.
      absl::MutexLock lock(&h.pending_mutex);
      h.pending[message] = {&batch, i};
      ++batch.outstanding;
    }
    natsMsg* listed = message;
    s = js_PublishMsgAsync(h.js, &message, &publish_options);
    if (s != NATS_OK) {
      {
        absl::MutexLock lock(&h.pending_mutex);
        if (h.pending.erase(listed) > 0) --batch.outstanding;
      }
      natsMsg_Destroy(message);  // null if the library took it
      publish_status = NatsError(s, "publishing to the event stream");
    }
  }
  absl::MutexLock lock(&h.pending_mutex);
  // The library reports a timeout for every message after MaxWait; the extra second only
  // guards against a callback that never comes.
  h.pending_mutex.AwaitWithTimeout(
      absl::Condition(
          +[](PendingBatch* pending) { return pending->outstanding == 0; }, &batch),
      options_.publish_timeout + absl::Seconds(1));
  if (batch.outstanding > 0) {
    for (auto it = h.pending.begin(); it != h.pending.end();) {
      auto current = it++;
      if (current->second.first == &batch) h.pending.erase(current);
    }
    if (batch.status.ok()) {
      batch.status = absl::UnavailableError(
          "publishing to the event stream: no acknowledgement from the broker in time");
    }
  }
  if (!publish_status.ok()) return publish_status;
  if (!batch.status.ok()) return batch.status;
  return std::move(batch.acks);
}

absl::StatusOr<std::unique_ptr<JetStreamSubscription>> JetStreamConnection::Subscribe(
    uint64_t start_sequence) {
  jsSubOptions sub_options;
  jsSubOptions_Init(&sub_options);
  sub_options.Stream = options_.stream.c_str();
  sub_options.Ordered = true;
  if (start_sequence > 1) {
    sub_options.Config.DeliverPolicy = js_DeliverByStartSequence;
    sub_options.Config.OptStartSeq = start_sequence;
  } else {
    sub_options.Config.DeliverPolicy = js_DeliverAll;
  }
  const std::string subjects = absl::StrCat(options_.subject_prefix, ".>");
  auto handles = std::make_unique<JetStreamSubscription::Handles>();
  jsErrCode js_error = jsErrCode(0);
  natsStatus s = js_SubscribeSync(&handles->subscription, handles_->js, subjects.c_str(), nullptr,
                                  &sub_options, &js_error);
  if (s != NATS_OK) return NatsError(s, "subscribing to the event stream", js_error);
  // Buffer up to 256k messages (or 256 MiB) before the library drops any: flow control keeps
  // the broker from sending faster than that.
  natsSubscription_SetPendingLimits(handles->subscription, 256 * 1024, 256 << 20);
  return std::unique_ptr<JetStreamSubscription>(new JetStreamSubscription(std::move(handles)));
}

JetStreamSubscription::JetStreamSubscription(std::unique_ptr<Handles> handles)
    : handles_(std::move(handles)) {}

JetStreamSubscription::~JetStreamSubscription() = default;

absl::StatusOr<StreamMessage> JetStreamSubscription::Next(absl::Duration timeout) {
  natsMsg* message = nullptr;
  natsStatus s = natsSubscription_NextMsg(&message, handles_->subscription,
                                          std::max<int64_t>(1, absl::ToInt64Milliseconds(timeout)));
  if (s == NATS_TIMEOUT) return absl::DeadlineExceededError("no message");
  if (s != NATS_OK) return NatsError(s, "reading the event stream");
  StreamMessage result;
  result.subject = natsMsg_GetSubject(message);
  result.data.assign(natsMsg_GetData(message), natsMsg_GetDataLength(message));
  jsMsgMetaData* meta = nullptr;
  s = natsMsg_GetMetaData(&meta, message);
  natsMsg_Destroy(message);
  if (s != NATS_OK) return NatsError(s, "reading a message's stream metadata");
  result.sequence = meta->Sequence.Stream;
  result.pending = meta->NumPending;
  result.published_unix_ns = meta->Timestamp;
  jsMsgMetaData_Destroy(meta);
  return result;
}

int JetStreamSubscription::Buffered() const {
  int messages = 0, bytes = 0;
  if (natsSubscription_GetPending(handles_->subscription, &messages, &bytes) != NATS_OK) return 0;
  return messages;
}

}  // namespace ranker
