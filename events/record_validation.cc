#include "events/record_validation.h"

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "google/protobuf/reflection.h"

namespace ranker {
namespace {

bool HasUnknownFields(const google::protobuf::Message& message) {
  return !message.GetReflection()->GetUnknownFields(message).empty();
}

absl::Status CheckId(const char* what, uint64_t id, int index) {
  if (id < kMaxEventId) return absl::OkStatus();
  return absl::InvalidArgumentError(
      absl::StrCat("interaction ", index, ": ", what, " ", id, " is not a plausible id (>= 2^63)"));
}

absl::Status CheckTime(int64_t timestamp_ms, int64_t max_unix_ms, int index) {
  if (timestamp_ms < 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("interaction ", index, ": timestamp_ms ", timestamp_ms, " is negative"));
  }
  if (timestamp_ms > max_unix_ms) {
    return absl::InvalidArgumentError(
        absl::StrCat("interaction ", index, ": timestamp_ms ", timestamp_ms, " is ",
                     (timestamp_ms - max_unix_ms) / 1000, " s beyond the latest time accepted (",
                     max_unix_ms, ", now plus the allowed clock skew)"));
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status ValidateRecordRequest(const v1::RecordRequest& request, const RecordLimits& limits,
                                   int64_t now_unix_ms) {
  if (request.interactions_size() == 0) {
    return absl::InvalidArgumentError("no interactions: a Record call needs at least one");
  }
  if (static_cast<uint64_t>(request.interactions_size()) > limits.max_interactions) {
    return absl::InvalidArgumentError(
        absl::StrCat(request.interactions_size(), " interactions in one call; at most ",
                     limits.max_interactions, " (split the batch, or use RecordStream)"));
  }
  if (request.request_id().size() > limits.max_request_id_bytes) {
    return absl::InvalidArgumentError(absl::StrCat("request_id is ", request.request_id().size(),
                                                   " bytes; at most ",
                                                   limits.max_request_id_bytes));
  }
  if (HasUnknownFields(request)) {
    return absl::InvalidArgumentError(
        "the request has fields this server does not know (a newer API version?)");
  }
  const int64_t max_unix_ms = now_unix_ms + absl::ToInt64Milliseconds(limits.max_future);
  for (int i = 0; i < request.interactions_size(); ++i) {
    const v1::Interaction& interaction = request.interactions(i);
    if (HasUnknownFields(interaction)) {
      return absl::InvalidArgumentError(
          absl::StrCat("interaction ", i, " has fields this server does not know"));
    }
    if (absl::Status s = CheckId("user_id", interaction.user_id(), i); !s.ok()) return s;
    if (absl::Status s = CheckId("item_id", interaction.item_id(), i); !s.ok()) return s;
    if (absl::Status s = CheckTime(interaction.timestamp_ms(), max_unix_ms, i); !s.ok()) return s;
  }
  return absl::OkStatus();
}

std::vector<v1::UserInteractions> GroupByUser(const v1::RecordRequest& request,
                                              int64_t now_unix_ms) {
  std::vector<v1::UserInteractions> grouped;
  absl::flat_hash_map<uint64_t, size_t> index_of_user;
  for (const v1::Interaction& interaction : request.interactions()) {
    auto [it, inserted] = index_of_user.try_emplace(interaction.user_id(), grouped.size());
    if (inserted) {
      grouped.emplace_back();
      grouped.back().set_user_id(interaction.user_id());
    }
    v1::UserInteractions& user = grouped[it->second];
    user.add_item_ids(interaction.item_id());
    user.add_timestamps_ms(interaction.timestamp_ms() != 0 ? interaction.timestamp_ms()
                                                           : now_unix_ms);
  }
  return grouped;
}

absl::Status ValidateUserInteractions(const v1::UserInteractions& message, uint32_t max_items,
                                      int64_t max_unix_ms) {
  if (HasUnknownFields(message)) {
    return absl::InvalidArgumentError("the message has fields this server does not know");
  }
  if (message.item_ids_size() == 0) return absl::InvalidArgumentError("no item ids");
  if (static_cast<uint64_t>(message.item_ids_size()) > max_items) {
    return absl::InvalidArgumentError(
        absl::StrCat(message.item_ids_size(), " item ids; at most ", max_items));
  }
  if (message.timestamps_ms_size() != message.item_ids_size()) {
    return absl::InvalidArgumentError(absl::StrCat(message.item_ids_size(), " item ids but ",
                                                   message.timestamps_ms_size(), " timestamps"));
  }
  if (message.user_id() >= kMaxEventId) {
    return absl::InvalidArgumentError(
        absl::StrCat("user_id ", message.user_id(), " is not a plausible id (>= 2^63)"));
  }
  for (int i = 0; i < message.item_ids_size(); ++i) {
    if (absl::Status s = CheckId("item_id", message.item_ids(i), i); !s.ok()) return s;
    if (absl::Status s = CheckTime(message.timestamps_ms(i), max_unix_ms, i); !s.ok()) return s;
  }
  return absl::OkStatus();
}

}  // namespace ranker
