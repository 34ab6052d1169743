// Whatever a publisher puts on the event stream reaches every replica's consumer: decoding must
// never crash, and what it accepts must be what the consumer may apply (the subject's user, at
// most max_items items, a time per item, none beyond the limit). Also feeds the bytes to the
// Record validation, which sees requests parsed from the same kind of bytes.
//
// Input: byte 0 picks the subject (the prefix and a user id from bytes 1-8, a wrong prefix, or
// bytes 1-8 as text); the rest is the message.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>

#include "absl/strings/str_cat.h"
#include "events/record_validation.h"
#include "events/stream_message.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 9) return 0;
  uint64_t user = 0;
  for (int i = 1; i <= 8; ++i) user = (user << 8) | data[i];
  std::string subject;
  switch (data[0] % 3) {
    case 0:
      subject = absl::StrCat("ranker.events.", user);
      break;
    case 1:
      subject = absl::StrCat("other.events.", user);
      break;
    default:
      subject =
          absl::StrCat("ranker.events.", std::string(reinterpret_cast<const char*>(data + 1), 8));
  }
  const absl::string_view message(reinterpret_cast<const char*>(data + 9), size - 9);
  ranker::StreamLimits limits;
  limits.max_items = 64;
  limits.max_unix_ms = 4'000'000'000'000;
  ranker::SkipReason reason;
  absl::StatusOr<ranker::v1::UserInteractions> decoded =
      ranker::DecodeStreamMessage("ranker.events", subject, message, limits, &reason);
  if (decoded.ok()) {
    if (subject != absl::StrCat("ranker.events.", decoded->user_id())) abort();
    if (decoded->item_ids_size() == 0 || decoded->item_ids_size() > 64) abort();
    if (decoded->timestamps_ms_size() != decoded->item_ids_size()) abort();
    for (int64_t t : decoded->timestamps_ms()) {
      if (t < 0 || t > limits.max_unix_ms) abort();
    }
    for (uint64_t item : decoded->item_ids()) {
      if (item >= ranker::kMaxEventId) abort();
    }
  }
  ranker::v1::RecordRequest request;
  if (request.ParseFromArray(message.data(), static_cast<int>(message.size()))) {
    ranker::RecordLimits record_limits;
    record_limits.max_interactions = 64;
    if (ranker::ValidateRecordRequest(request, record_limits, 1'700'000'000'000).ok()) {
      for (const auto& user_events : ranker::GroupByUser(request, 1'700'000'000'000)) {
        if (user_events.item_ids_size() != user_events.timestamps_ms_size()) abort();
      }
    }
  }
  return 0;
}
