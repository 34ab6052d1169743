// What a model config would take in memory, known before anything loads: per model, the tensor
// bytes (from the stores' manifests) of the versions its policy would hold: the newest
// num_versions (or the server's --keep_versions) and every labelled version. A config whose sum
// exceeds --memory_limit is refused whole, naming each model and its bytes, so the server never
// loads half of it and then swaps or is killed. The estimate is the stored tensor bytes; what
// loading adds (id maps' indexes, retrieval row indexes, the head/tail rank directory) is small
// next to it and is what ranker_model_memory_bytes then reports. The check is on the config's
// steady state: during an apply, models being replaced are still held (docs/design.md).
#ifndef RANKER_SERVER_MODEL_MEMORY_H_
#define RANKER_SERVER_MODEL_MEMORY_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "proto/model_config.pb.h"

namespace ranker {

struct ModelMemory {
  std::string name;
  std::vector<uint64_t> versions;  // that the policy would hold
  uint64_t bytes = 0;
};

// Opens each model's store (read-only) and reads its manifests. An error names the model.
absl::StatusOr<std::vector<ModelMemory>> EstimateModelMemory(const config::ModelConfigList& config,
                                                             uint32_t default_keep_versions);

// RESOURCE_EXHAUSTED when the models' bytes sum above `limit_bytes` (0: no limit), the message
// listing every model's bytes.
absl::Status CheckMemoryLimit(const std::vector<ModelMemory>& models, uint64_t limit_bytes);

}  // namespace ranker

#endif  // RANKER_SERVER_MODEL_MEMORY_H_
