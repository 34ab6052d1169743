// Helpers shared by the fuzz targets: the bounded tensor builder that turns a fuzzed manifest
// into the tensors it describes, and a small demo model for request fuzzing.
#ifndef RANKER_FUZZ_FUZZ_UTIL_H_
#define RANKER_FUZZ_FUZZ_UTIL_H_

#include <cstddef>
#include <cstdint>

#include "absl/status/statusor.h"
#include "model/model.h"
#include "model/snapshot.h"

namespace ranker::fuzz {

// Tensors (manifests validated against this many bytes) stay small so each input runs fast;
// the validation is what refuses larger ones, which is the point.
inline constexpr uint64_t kMaxSnapshotBytes = uint64_t{8} << 20;

// Validates `manifest` (as the loader does), then builds the tensors it lists, filling their
// bytes by cycling over `payload` (zeros if empty), and creates the Model from them.
absl::StatusOr<std::unique_ptr<const Model>> BuildModel(const Manifest& manifest,
                                                        const uint8_t* payload, size_t size);

// Exercises a built model the way the server does: a few users, the whole catalogue and a
// handful of candidate ids (known, unknown, duplicated).
void ExerciseModel(const Model& model);

}  // namespace ranker::fuzz

#endif  // RANKER_FUZZ_FUZZ_UTIL_H_
