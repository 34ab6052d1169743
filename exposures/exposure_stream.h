// The exposure log of a fleet: sampled Rank responses on NATS JetStream, next to the event
// stream. Stream RANKER_EXPOSURES, one subject per user ("ranker.exposures.<user_id>"), each
// message one serialized ranker.v1.Exposure, at most kExposuresPerUser kept per user (bounded
// retention, as the event stream's per-user cap). Every replica publishes there; training and
// analysis read the whole stream (`ranker-store exposures --nats URL`).
#ifndef RANKER_EXPOSURES_EXPOSURE_STREAM_H_
#define RANKER_EXPOSURES_EXPOSURE_STREAM_H_

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "events/jetstream.h"
#include "proto/exposure.pb.h"

namespace ranker {

inline constexpr char kExposureStream[] = "RANKER_EXPOSURES";
inline constexpr char kExposureSubjectPrefix[] = "ranker.exposures";
inline constexpr int64_t kExposuresPerUser = 1000;

// The stream's options on the broker at `url`.
JetStreamOptions ExposureStreamOptions(const std::string& url);

// ExposureLogOptions::publish for `connection` (which must outlive it): creates the stream on
// first use, then publishes each batch and waits for the broker's acks. UNAVAILABLE while the
// broker is away.
std::function<absl::Status(const std::vector<v1::Exposure>&)> PublishExposuresTo(
    JetStreamConnection* connection);

// Calls `visit` for every exposure in the stream, oldest first, until the stream's end as of
// now. Returns how many messages were not exposures (skipped).
absl::StatusOr<uint64_t> ReadExposureStream(JetStreamConnection* connection,
                                            const std::function<void(const v1::Exposure&)>& visit);

}  // namespace ranker

#endif  // RANKER_EXPOSURES_EXPOSURE_STREAM_H_
