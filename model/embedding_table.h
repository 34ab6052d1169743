// One categorical feature's embedding table, of any kind the manifest names:
//   full    E[i]                         n x d
//   hash    S[h(i) mod m]                m x d            (the hashing trick)
//   qr      Q[i / m] * R[i mod m]        ceil(n/m) x d and m x d (quotient-remainder trick)
//   memcom  S[h(i) mod m] * w[i]         m x d and n      (Pansare et al., MLSys 2022)
//   memcom_freq  D[p] * w[i] if i is the p-th of the K dedicated (most frequent) entities,
//           else S[h(i) mod m] * w[i]    m x d, n, K x d and K ids (this project's variant)
// Ids outside [0, n) are unknown: hash/memcom use S[h(id) mod m] with weight 1, qr uses
// R[h(id) mod m], full uses a zero vector. Immutable after Create; thread-safe to read.
#ifndef RANKER_MODEL_EMBEDDING_TABLE_H_
#define RANKER_MODEL_EMBEDDING_TABLE_H_

#include <cstddef>
#include <cstdint>
#include <limits>

#include "absl/status/statusor.h"
#include "model/snapshot.h"

namespace ranker {

// h(i) of a table spec: identity or a seeded 64-bit mix (splitmix64 finaliser).
uint64_t HashId(snapshot::HashKind kind, uint64_t seed, uint64_t id);

class EmbeddingTable {
 public:
  // Marks an entry of Gather's `indices` whose embedding comes from its raw id instead.
  static constexpr uint64_t kUnknown = std::numeric_limits<uint64_t>::max();

  // Takes the table's tensors out of `tensors`, checking dtypes and shapes against `spec`.
  static absl::StatusOr<EmbeddingTable> Create(const TableSpec& spec, TensorMap& tensors);

  const TableSpec& spec() const { return spec_; }
  uint32_t dim() const { return spec_.d(); }
  uint64_t size() const { return spec_.n(); }
  // Bytes of the table's tensors as loaded.
  size_t resident_bytes() const;
  // Trainable parameters (floats).
  uint64_t parameters() const;

  // REQUIRES: index < size(). Writes d floats.
  void Embed(uint64_t index, float* out) const;
  // Embedding of an id outside the table (see the file comment).
  void EmbedUnknown(uint64_t raw_id, float* out) const;
  // Row r of `out` (count x d, row-major) = Embed(indices[r]), or EmbedUnknown(raw_ids[r]) where
  // indices[r] == kUnknown.
  void Gather(const uint64_t* indices, const uint64_t* raw_ids, size_t count, float* out) const;

  // Raw tensors, for trainers and tests: full/hash/memcom/qr use `primary` (E, S, S, R),
  // memcom uses `weights`, qr uses `quotient`.
  const float* primary() const { return primary_.as<float>().data(); }
  const float* weights() const { return weights_.as<float>().data(); }
  const float* quotient() const { return quotient_.as<float>().data(); }
  // memcom_freq: the row of index i (dedicated or shared) before its weight is applied.
  const float* BaseRow(uint64_t index) const;

 private:
  uint64_t Row(uint64_t id) const {
    return HashId(spec_.hash(), spec_.hash_seed(), id) % spec_.m();
  }

  TableSpec spec_;
  AlignedBuffer primary_;         // E (full), S (hash, memcom), R (qr)
  AlignedBuffer weights_;         // memcom: n scalars
  AlignedBuffer quotient_;        // qr: ceil(n/m) x d
  AlignedBuffer dedicated_ids_;   // memcom_freq: K sorted dense indices
  AlignedBuffer dedicated_rows_;  // memcom_freq: K x d
};

}  // namespace ranker

#endif  // RANKER_MODEL_EMBEDDING_TABLE_H_
