#include "server/traffic_split.h"

#include <cmath>

#include "common/fnv1a.h"

namespace ranker {
namespace {

// splitmix64's finaliser: every bit of the input moves every bit of the output, so consecutive
// user ids land in unrelated buckets.
uint64_t Mix(uint64_t x) {
  x ^= x >> 30;
  x *= 0xbf58476d1ce4e5b9ULL;
  x ^= x >> 27;
  x *= 0x94d049bb133111ebULL;
  x ^= x >> 31;
  return x;
}

uint64_t HashSalt(const std::string& salt) {
  Fnv1a64 hash;
  for (unsigned char c : salt) hash.Add(c);
  hash.Add(salt.size());
  return hash.value();
}

}  // namespace

TrafficSplitter::TrafficSplitter(const config::TrafficSplit& split)
    : salt_hash_(HashSalt(split.salt())) {
  uint32_t bound = 0;
  for (const config::TrafficSplit::Arm& arm : split.arms()) {
    bound += static_cast<uint32_t>(std::lround(arm.percent() * 100));
    labels_.push_back(arm.label());
    upper_bounds_.push_back(bound);
  }
  if (!upper_bounds_.empty()) upper_bounds_.back() = kBuckets;  // rounding cannot leave a gap
}

uint32_t TrafficSplitter::Bucket(uint64_t user_id) const {
  return static_cast<uint32_t>(Mix(user_id ^ salt_hash_) % kBuckets);
}

const std::string& TrafficSplitter::Assign(uint64_t user_id) const {
  const uint32_t bucket = Bucket(user_id);
  size_t arm = 0;
  while (bucket >= upper_bounds_[arm]) ++arm;
  return labels_[arm];
}

}  // namespace ranker
