// Maps a feature's wire ids (the dataset's own ids) to dense indices [0, n) and back.
// Without a map the ids are dense already (index == id). With one, the map is the sorted list
// of wire ids, so index order equals id order and ties "to the lower id" stay consistent.
// Immutable after Create; thread-safe to read.
#ifndef RANKER_MODEL_ID_MAP_H_
#define RANKER_MODEL_ID_MAP_H_

#include <cstdint>
#include <optional>

#include "absl/status/statusor.h"
#include "model/snapshot.h"

namespace ranker {

class IdMap {
 public:
  // Identity over [0, n).
  static IdMap Dense(uint64_t n);
  // Takes "<feature>/id_map" out of `tensors`: n strictly increasing uint64 ids.
  static absl::StatusOr<IdMap> Create(const TableSpec& spec, TensorMap& tensors);

  uint64_t size() const { return n_; }
  bool dense() const { return ids_.size() == 0; }
  size_t resident_bytes() const { return ids_.size(); }

  // The dense index of `id`, or nullopt when the model has never seen it.
  std::optional<uint64_t> ToIndex(uint64_t id) const;
  // REQUIRES: index < size().
  uint64_t ToId(uint64_t index) const { return dense() ? index : ids_.as<uint64_t>()[index]; }

 private:
  uint64_t n_ = 0;
  AlignedBuffer ids_;  // empty when dense
};

}  // namespace ranker

#endif  // RANKER_MODEL_ID_MAP_H_
