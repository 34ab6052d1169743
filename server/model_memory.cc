#include "server/model_memory.h"

#include <algorithm>
#include <set>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/format_bytes.h"
#include "common/status_macros.h"
#include "model_store/snapshot_store.h"
#include "model_store/tensor_specs.h"

namespace ranker {
namespace {

absl::StatusOr<ModelMemory> EstimateOne(const config::ModelConfig& model, uint32_t keep_versions) {
  ModelMemory memory;
  memory.name = model.name();
  ASSIGN_OR_RETURN(std::unique_ptr<SnapshotStore> store,
                   SnapshotStore::OpenSecondary(model.store()));
  ASSIGN_OR_RETURN(const std::vector<uint64_t> versions, store->ListVersions());
  std::set<uint64_t> held;
  const uint32_t newest = model.version_policy().latest().num_versions() > 0
                              ? model.version_policy().latest().num_versions()
                              : keep_versions;
  if (!model.version_policy().has_specific()) {  // a specific policy holds its list alone
    for (size_t k = 0; k < versions.size() && k < std::max<uint32_t>(1, newest); ++k) {
      held.insert(versions[versions.size() - 1 - k]);
    }
  }
  for (uint64_t version : model.version_policy().specific().versions()) held.insert(version);
  for (const auto& [label, version] : model.labels()) held.insert(version);
  for (uint64_t version : held) {
    if (!std::binary_search(versions.begin(), versions.end(), version)) continue;  // refused later
    ASSIGN_OR_RETURN(const Manifest manifest, store->ReadManifest(version));
    memory.bytes += ManifestTensorBytes(manifest);
    memory.versions.push_back(version);
  }
  return memory;
}

}  // namespace

absl::StatusOr<std::vector<ModelMemory>> EstimateModelMemory(const config::ModelConfigList& config,
                                                             uint32_t default_keep_versions) {
  std::vector<ModelMemory> models;
  for (int i = 0; i < config.models_size(); ++i) {
    const config::ModelConfig& model = config.models(i);
    absl::StatusOr<ModelMemory> memory = EstimateOne(model, default_keep_versions);
    if (!memory.ok()) {
      return absl::Status(memory.status().code(),
                          absl::StrCat("models[", i, "] '", model.name(),
                                       "': cannot read its store: ", memory.status().message()));
    }
    models.push_back(*std::move(memory));
  }
  return models;
}

absl::Status CheckMemoryLimit(const std::vector<ModelMemory>& models, uint64_t limit_bytes) {
  uint64_t total = 0;
  for (const ModelMemory& model : models) total += model.bytes;
  if (limit_bytes == 0 || total <= limit_bytes) return absl::OkStatus();
  std::vector<std::string> parts;
  for (const ModelMemory& model : models) {
    parts.push_back(absl::StrCat(model.name, " ", FormatBytes(model.bytes), " (",
                                 model.versions.size() == 1 ? "version " : "versions ",
                                 absl::StrJoin(model.versions, ", "), ")"));
  }
  return absl::ResourceExhaustedError(absl::StrCat(
      "the model config needs ", FormatBytes(total), " of tensors, over --memory_limit ",
      FormatBytes(limit_bytes), ": ", absl::StrJoin(parts, "; ")));
}

}  // namespace ranker
