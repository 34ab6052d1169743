// FNV-1a over 64-bit values (their little-endian bytes): a cheap fingerprint that is the same on
// every machine and run, for checksums people compare (history digests) and content-derived ids
// (message ids). Not for security, nor for hash tables.
#ifndef RANKER_COMMON_FNV1A_H_
#define RANKER_COMMON_FNV1A_H_

#include <cstdint>

namespace ranker {

class Fnv1a64 {
 public:
  void Add(uint64_t value) {
    for (int b = 0; b < 8; ++b) {
      hash_ ^= (value >> (8 * b)) & 0xFF;
      hash_ *= 0x100000001b3ULL;
    }
  }
  uint64_t value() const { return hash_; }

 private:
  uint64_t hash_ = 0xcbf29ce484222325ULL;
};

}  // namespace ranker

#endif  // RANKER_COMMON_FNV1A_H_
