// ranker-store's event-log commands: export the fleet's event stream as the trainer's CSV (what
// was recorded is what the next model trains on), and import an interaction log into the
// stream (histories in a fleet have one way in: every replica applies it like any Record).
#include <chrono>
#include <cstdio>
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "common/status_macros.h"
#include "events/jetstream.h"
#include "events/stream_message.h"
#include "interactions/interactions.h"
#include "interactions/user_histories.h"
#include "model_store/cli/store_commands.h"

namespace ranker {
namespace {

absl::StatusOr<std::unique_ptr<JetStreamConnection>> ConnectReady(const EventStreamFlags& flags) {
  JetStreamOptions options;
  options.url = flags.nats_url;
  options.stream = flags.stream;
  options.subject_prefix = flags.subject_prefix;
  options.max_msgs_per_subject = flags.history_cap;
  ASSIGN_OR_RETURN(std::unique_ptr<JetStreamConnection> connection,
                   JetStreamConnection::Connect(options));
  // The connection is made in the background; a tool wants an answer now.
  for (int i = 0; i < 50 && !connection->connected(); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  if (!connection->connected()) {
    return absl::UnavailableError(
        absl::StrCat("cannot reach the event broker at ", flags.nats_url));
  }
  RETURN_IF_ERROR(connection->EnsureStream());
  return connection;
}

}  // namespace

absl::Status RunEventsExport(const EventStreamFlags& flags, int64_t since_unix_ms) {
  ASSIGN_OR_RETURN(std::unique_ptr<JetStreamConnection> connection, ConnectReady(flags));
  ASSIGN_OR_RETURN(std::unique_ptr<JetStreamSubscription> subscription,
                   connection->Subscribe(/*start_sequence=*/1));
  StreamLimits limits;
  limits.max_items = UINT32_MAX;
  limits.max_unix_ms = INT64_MAX;
  uint64_t messages = 0, lines = 0, skipped = 0;
  std::printf("user,item,rating,timestamp_ms\n");
  for (;;) {
    absl::StatusOr<StreamMessage> message = subscription->Next(absl::Seconds(2));
    if (absl::IsDeadlineExceeded(message.status())) break;  // nothing more within 2 s
    if (!message.ok()) return message.status();
    ++messages;
    SkipReason reason;
    absl::StatusOr<v1::UserInteractions> decoded =
        DecodeStreamMessage(flags.subject_prefix, message->subject, message->data, limits, &reason);
    if (!decoded.ok()) {
      ++skipped;
    } else {
      for (int i = 0; i < decoded->item_ids_size(); ++i) {
        if (decoded->timestamps_ms(i) < since_unix_ms) continue;
        std::printf("%lu,%lu,1,%ld\n", decoded->user_id(), decoded->item_ids(i),
                    decoded->timestamps_ms(i));
        ++lines;
      }
    }
    if (message->pending == 0) break;  // the end of the stream as of now
    if (messages % 100000 == 0) {
      std::fprintf(stderr, "events export: %lu messages, %lu more to read\n", messages,
                   message->pending);
    }
  }
  std::fprintf(stderr,
               "events export: %lu interactions from %lu messages (%lu unusable, skipped) in "
               "stream %s\n",
               lines, messages, skipped, flags.stream.c_str());
  return absl::OkStatus();
}

absl::Status RunEventsImport(const EventStreamFlags& flags, const std::string& path,
                             const std::string& format_name) {
  ASSIGN_OR_RETURN(LogFormat format, ParseLogFormat(format_name));
  ASSIGN_OR_RETURN(Dataset log, ReadInteractions(path, format));
  ASSIGN_OR_RETURN(std::unique_ptr<JetStreamConnection> connection, ConnectReady(flags));
  const auto start = std::chrono::steady_clock::now();
  const int64_t now_ms = absl::ToUnixMillis(absl::Now());
  uint64_t users = 0, interactions = 0, duplicates = 0;
  std::string data;
  for (const UserHistory& history : UserHistoriesOf(log)) {
    if (history.items.empty()) continue;
    // The stream keeps the newest --history_cap messages per user; one message per user is
    // enough, with the newest cap items (all a history holds).
    v1::UserInteractions message;
    message.set_user_id(history.user_id);
    const size_t first =
        history.items.size() > flags.history_cap ? history.items.size() - flags.history_cap : 0;
    for (size_t i = first; i < history.items.size(); ++i) {
      message.add_item_ids(history.items[i]);
      message.add_timestamps_ms(now_ms);
    }
    message.SerializeToString(&data);
    // The same file imported again (within the broker's window) is dropped as a duplicate.
    ASSIGN_OR_RETURN(
        JetStreamConnection::Ack ack,
        connection->Publish(connection->SubjectOf(history.user_id), data,
                            StreamMessageId(absl::StrCat("import:", path), history.user_id)));
    ++users;
    interactions += message.item_ids_size();
    if (ack.duplicate) duplicates += message.item_ids_size();
    if (users % 10000 == 0) std::fprintf(stderr, "events import: %lu users\n", users);
  }
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::printf(
      "published the histories of %lu users (%lu interactions, %lu already in the stream) to %s "
      "in %.2f s; every replica applies them\n",
      users, interactions, duplicates, flags.stream.c_str(), seconds);
  return absl::OkStatus();
}

}  // namespace ranker
