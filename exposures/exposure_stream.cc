#include "exposures/exposure_stream.h"

#include <atomic>
#include <memory>

#include "common/status_macros.h"

namespace ranker {

JetStreamOptions ExposureStreamOptions(const std::string& url) {
  JetStreamOptions options;
  options.url = url;
  options.stream = kExposureStream;
  options.subject_prefix = kExposureSubjectPrefix;
  options.max_msgs_per_subject = kExposuresPerUser;
  return options;
}

std::function<absl::Status(const std::vector<v1::Exposure>&)> PublishExposuresTo(
    JetStreamConnection* connection) {
  auto ensured = std::make_shared<std::atomic<bool>>(false);
  return [connection, ensured](const std::vector<v1::Exposure>& batch) -> absl::Status {
    if (!ensured->load()) {
      RETURN_IF_ERROR(connection->EnsureStream());
      ensured->store(true);
    }
    std::vector<JetStreamConnection::OutgoingMessage> messages;
    messages.reserve(batch.size());
    for (const v1::Exposure& exposure : batch) {
      messages.push_back(
          {connection->SubjectOf(exposure.user_id()), exposure.SerializeAsString(), ""});
    }
    return connection->PublishBatch(messages).status();
  };
}

absl::StatusOr<uint64_t> ReadExposureStream(JetStreamConnection* connection,
                                            const std::function<void(const v1::Exposure&)>& visit) {
  ASSIGN_OR_RETURN(std::unique_ptr<JetStreamSubscription> subscription,
                   connection->Subscribe(/*start_sequence=*/1));
  uint64_t skipped = 0;
  v1::Exposure exposure;
  for (;;) {
    absl::StatusOr<StreamMessage> message = subscription->Next(absl::Seconds(2));
    if (absl::IsDeadlineExceeded(message.status())) break;  // nothing more within 2 s
    if (!message.ok()) return message.status();
    if (exposure.ParseFromString(message->data)) {
      visit(exposure);
    } else {
      ++skipped;
    }
    if (message->pending == 0) break;  // the end of the stream as of now
  }
  return skipped;
}

}  // namespace ranker
