// h(i) of a table spec: the identity (as in the MEmCom paper) or a seeded 64-bit mix (the
// splitmix64 finaliser). Shared rows are h(i) mod m.
#ifndef RANKER_MODEL_ID_HASH_H_
#define RANKER_MODEL_ID_HASH_H_

#include <cstdint>

#include "proto/snapshot.pb.h"

namespace ranker {

inline uint64_t HashId(snapshot::HashKind kind, uint64_t seed, uint64_t id) {
  if (kind != snapshot::MIX) return id;
  uint64_t z = id ^ seed;
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

// The shared row of `id` in a table of `spec`. REQUIRES: spec.m() >= 1.
inline uint64_t SharedRow(const snapshot::TableSpec& spec, uint64_t id) {
  return HashId(spec.hash(), spec.hash_seed(), id) % spec.m();
}

// The second row of `id` (memcom2): (id / m) mod m for the identity hash, so ids below m^2
// never share both rows; otherwise a mix seeded differently from the first row's.
// REQUIRES: spec.m() >= 1.
inline uint64_t SecondRow(const snapshot::TableSpec& spec, uint64_t id) {
  if (spec.hash() != snapshot::MIX) return (id / spec.m()) % spec.m();
  return HashId(snapshot::MIX, spec.hash_seed() ^ 0x9e3779b97f4a7c15ULL, id) % spec.m();
}

}  // namespace ranker

#endif  // RANKER_MODEL_ID_HASH_H_
