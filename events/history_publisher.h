// Whole histories into the fleet's event stream: what `ranker-store history import --nats`,
// `history publish` and `ranker-train --publish --nats` send, so that histories have one way into
// a fleet (every replica applies them as it applies Record calls). One message per user with the
// newest `cap` items (all a history keeps; the stream keeps `cap` messages per user). Each
// message's id is derived from `id_prefix`, the user and the items, so publishing the same
// histories again within the broker's window adds nothing.
#ifndef RANKER_EVENTS_HISTORY_PUBLISHER_H_
#define RANKER_EVENTS_HISTORY_PUBLISHER_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "common/user_history.h"
#include "events/jetstream.h"

namespace ranker {

struct PublishedHistories {
  uint64_t users = 0;
  uint64_t interactions = 0;
  uint64_t duplicates = 0;  // interactions the broker already had (an earlier identical publish)
};

// Publishes `histories` (items oldest first) stamped `now_unix_ms`. Stops at the first
// publish the broker does not acknowledge (UNAVAILABLE: run again; what was acknowledged is
// dropped as a duplicate the second time).
absl::StatusOr<PublishedHistories> PublishHistories(JetStreamConnection* connection,
                                                    const std::vector<UserHistory>& histories,
                                                    const std::string& id_prefix, size_t cap,
                                                    int64_t now_unix_ms);

// Connects to `options.url`, waiting up to 5 s for the connection (tools want an answer now),
// and makes sure the stream exists.
absl::StatusOr<std::unique_ptr<JetStreamConnection>> ConnectToStream(JetStreamOptions options);

}  // namespace ranker

#endif  // RANKER_EVENTS_HISTORY_PUBLISHER_H_
