// ranker-store's event-log commands: export the fleet's event stream as the trainer's CSV (what
// was recorded is what the next model trains on), and put histories into the stream, from an
// interaction log or from a store's history family (histories in a fleet have one way in:
// every replica applies them like any Record).
#include <chrono>
#include <cstdio>
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "common/status_macros.h"
#include "events/history_publisher.h"
#include "events/jetstream.h"
#include "events/stream_message.h"
#include "interactions/interactions.h"
#include "interactions/user_histories.h"
#include "model_store/cli/store_commands.h"
#include "model_store/history_store.h"

namespace ranker {
namespace {

absl::StatusOr<std::unique_ptr<JetStreamConnection>> ConnectReady(const EventStreamFlags& flags) {
  JetStreamOptions options;
  options.url = flags.nats_url;
  options.stream = flags.stream;
  options.subject_prefix = flags.subject_prefix;
  options.max_msgs_per_subject = flags.history_cap;
  return ConnectToStream(options);
}

void PrintPublished(const PublishedHistories& published, const std::string& stream,
                    double seconds) {
  std::printf(
      "published the histories of %lu users (%lu interactions, %lu already in the stream) to %s "
      "in %.2f s; every replica applies them\n",
      published.users, published.interactions, published.duplicates, stream.c_str(), seconds);
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
  ASSIGN_OR_RETURN(
      PublishedHistories published,
      PublishHistories(connection.get(), UserHistoriesOf(log), absl::StrCat("import:", path),
                       flags.history_cap, absl::ToUnixMillis(absl::Now())));
  PrintPublished(published, flags.stream,
                 std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
  return absl::OkStatus();
}

absl::Status RunHistoryPublish(const EventStreamFlags& flags, const std::string& store_path) {
  ASSIGN_OR_RETURN(auto store, HistoryStore::OpenReader(store_path));
  ASSIGN_OR_RETURN(std::unique_ptr<JetStreamConnection> connection, ConnectReady(flags));
  const auto start = std::chrono::steady_clock::now();
  const int64_t now_ms = absl::ToUnixMillis(absl::Now());
  const std::string id_prefix = absl::StrCat("store:", store_path);
  PublishedHistories total;
  std::vector<UserHistory> chunk;
  const auto flush = [&]() -> absl::Status {
    ASSIGN_OR_RETURN(
        PublishedHistories published,
        PublishHistories(connection.get(), chunk, id_prefix, flags.history_cap, now_ms));
    total.users += published.users;
    total.interactions += published.interactions;
    total.duplicates += published.duplicates;
    chunk.clear();
    std::fprintf(stderr, "history publish: %lu users\n", total.users);
    return absl::OkStatus();
  };
  // In chunks: a store may hold millions of users.
  RETURN_IF_ERROR(store->ForEach([&](uint64_t user, const std::vector<uint64_t>& items) {
    chunk.push_back(UserHistory{user, items});
    return chunk.size() == 10000 ? flush() : absl::OkStatus();
  }));
  RETURN_IF_ERROR(flush());
  PrintPublished(total, flags.stream,
                 std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
  return absl::OkStatus();
}

}  // namespace ranker
