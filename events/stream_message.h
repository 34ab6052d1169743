// The event stream's message, both ways: what Record publishes for one user, and what a
// consumer accepts from any publisher. A consumer must survive whatever is on the subject
// (fuzz/event_decoder_fuzzer.cc): anything it cannot apply is reported with a reason and
// skipped, never applied in part.
#ifndef RANKER_EVENTS_STREAM_MESSAGE_H_
#define RANKER_EVENTS_STREAM_MESSAGE_H_

#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "events/event_observer.h"
#include "proto/ranker.pb.h"

namespace ranker {

struct StreamLimits {
  uint32_t max_items = 10000;  // per message
  int64_t max_unix_ms = 0;     // later timestamps are refused (now plus the allowed skew)
};

// The Nats-Msg-Id of one user's part of a request ("<request_id>/<user_id>"); empty when the
// request has no id.
std::string StreamMessageId(absl::string_view request_id, uint64_t user_id);

// Decodes the message published on `subject` ("<prefix>.<user_id>"). On failure *reason says
// why: kMalformed (not a UserInteractions, or a subject that names no user), kOversized (more
// than max_items), kInvalid (fails ValidateUserInteractions, or names another user than its
// subject).
absl::StatusOr<v1::UserInteractions> DecodeStreamMessage(absl::string_view subject_prefix,
                                                         absl::string_view subject,
                                                         absl::string_view data,
                                                         const StreamLimits& limits,
                                                         SkipReason* reason);

}  // namespace ranker

#endif  // RANKER_EVENTS_STREAM_MESSAGE_H_
