#include "events/history_publisher.h"

#include <chrono>
#include <thread>

#include "absl/strings/str_cat.h"
#include "common/fnv1a.h"
#include "common/status_macros.h"
#include "proto/ranker.pb.h"

namespace ranker {
namespace {

// The same history gives the same message id.
uint64_t ItemsHash(const std::vector<uint64_t>& items, size_t first) {
  Fnv1a64 hash;
  for (size_t i = first; i < items.size(); ++i) hash.Add(items[i]);
  return hash.value();
}

}  // namespace

absl::StatusOr<PublishedHistories> PublishHistories(JetStreamConnection* connection,
                                                    const std::vector<UserHistory>& histories,
                                                    const std::string& id_prefix, size_t cap,
                                                    int64_t now_unix_ms) {
  // Batches of messages in flight at once: one broker round trip per batch, not per user.
  constexpr size_t kBatch = 512;
  PublishedHistories published;
  std::vector<JetStreamConnection::OutgoingMessage> batch;
  std::vector<int> batch_sizes;
  auto flush = [&]() -> absl::Status {
    if (batch.empty()) return absl::OkStatus();
    ASSIGN_OR_RETURN(std::vector<JetStreamConnection::Ack> acks, connection->PublishBatch(batch));
    for (size_t i = 0; i < acks.size(); ++i) {
      ++published.users;
      published.interactions += batch_sizes[i];
      if (acks[i].duplicate) published.duplicates += batch_sizes[i];
    }
    batch.clear();
    batch_sizes.clear();
    return absl::OkStatus();
  };
  for (const UserHistory& history : histories) {
    if (history.items.empty()) continue;
    const size_t first = history.items.size() > cap ? history.items.size() - cap : 0;
    v1::UserInteractions message;
    message.set_user_id(history.user_id);
    for (size_t i = first; i < history.items.size(); ++i) {
      message.add_item_ids(history.items[i]);
      message.add_timestamps_ms(now_unix_ms);
    }
    JetStreamConnection::OutgoingMessage& outgoing = batch.emplace_back();
    outgoing.subject = connection->SubjectOf(history.user_id);
    message.SerializeToString(&outgoing.data);
    outgoing.message_id =
        absl::StrCat(id_prefix, "/", history.user_id, "/", ItemsHash(history.items, first));
    batch_sizes.push_back(message.item_ids_size());
    if (batch.size() == kBatch) RETURN_IF_ERROR(flush());
  }
  RETURN_IF_ERROR(flush());
  return published;
}

absl::StatusOr<std::unique_ptr<JetStreamConnection>> ConnectToStream(JetStreamOptions options) {
  const std::string url = options.url;
  ASSIGN_OR_RETURN(std::unique_ptr<JetStreamConnection> connection,
                   JetStreamConnection::Connect(std::move(options)));
  for (int i = 0; i < 50 && !connection->connected(); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  if (!connection->connected()) {
    return absl::UnavailableError(absl::StrCat("cannot reach the event broker at ", url));
  }
  RETURN_IF_ERROR(connection->EnsureStream());
  return connection;
}

}  // namespace ranker
