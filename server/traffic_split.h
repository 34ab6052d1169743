// Assigns users to a model's traffic-split arms (proto/model_config.proto, TrafficSplit) by a
// stable hash of (salt, user id): the same on every replica, after restarts and across
// platforms, and independent between models with different salts. A user's bucket is one of
// 10,000 (percents in steps of 0.01); arms take consecutive ranges of buckets in config order,
// so moving 1% from one arm to the next moves only the users of that 1%.
#ifndef RANKER_SERVER_TRAFFIC_SPLIT_H_
#define RANKER_SERVER_TRAFFIC_SPLIT_H_

#include <cstdint>
#include <string>
#include <vector>

#include "proto/model_config.pb.h"

namespace ranker {

class TrafficSplitter {
 public:
  static constexpr uint32_t kBuckets = 10000;

  // REQUIRES: `split` passed CheckModelConfig (arms sum to 100%), or has no arms.
  explicit TrafficSplitter(const config::TrafficSplit& split);

  bool empty() const { return labels_.empty(); }
  // The user's bucket in [0, kBuckets).
  uint32_t Bucket(uint64_t user_id) const;
  // The label of the arm the user is in. REQUIRES: !empty().
  const std::string& Assign(uint64_t user_id) const;

 private:
  uint64_t salt_hash_;
  std::vector<std::string> labels_;
  std::vector<uint32_t>
      upper_bounds_;  // arm i takes buckets [upper_bounds_[i-1], upper_bounds_[i])
};

}  // namespace ranker

#endif  // RANKER_SERVER_TRAFFIC_SPLIT_H_
