#include "events/stream_message.h"

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "events/record_validation.h"

namespace ranker {

std::string StreamMessageId(absl::string_view request_id, uint64_t user_id) {
  if (request_id.empty()) return "";
  return absl::StrCat(request_id, "/", user_id);
}

absl::StatusOr<v1::UserInteractions> DecodeStreamMessage(absl::string_view subject_prefix,
                                                         absl::string_view subject,
                                                         absl::string_view data,
                                                         const StreamLimits& limits,
                                                         SkipReason* reason) {
  *reason = SkipReason::kMalformed;
  uint64_t subject_user = 0;
  if (!absl::ConsumePrefix(&subject, subject_prefix) || !absl::ConsumePrefix(&subject, ".") ||
      !absl::SimpleAtoi(subject, &subject_user)) {
    return absl::InvalidArgumentError(
        absl::StrCat("subject '", subject, "' does not name a user under ", subject_prefix));
  }
  v1::UserInteractions message;
  if (!message.ParseFromArray(data.data(), static_cast<int>(data.size()))) {
    return absl::InvalidArgumentError(
        absl::StrCat(data.size(), " bytes that are not a ranker.v1.UserInteractions"));
  }
  if (static_cast<uint64_t>(message.item_ids_size()) > limits.max_items) {
    *reason = SkipReason::kOversized;
    return absl::InvalidArgumentError(absl::StrCat(
        message.item_ids_size(), " item ids in one message; at most ", limits.max_items));
  }
  *reason = SkipReason::kInvalid;
  if (message.user_id() != subject_user) {
    return absl::InvalidArgumentError(absl::StrCat("the message is about user ", message.user_id(),
                                                   " but was published for user ", subject_user));
  }
  if (absl::Status valid = ValidateUserInteractions(message, limits.max_items, limits.max_unix_ms);
      !valid.ok()) {
    return valid;
  }
  return message;
}

}  // namespace ranker
