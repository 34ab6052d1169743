#include "model_store/model_loader.h"

#include <unistd.h>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_cat.h"
#include "common/status_macros.h"

namespace ranker {
namespace {

uint64_t PhysicalMemoryBytes() {
  const long pages = sysconf(_SC_PHYS_PAGES);
  const long page_size = sysconf(_SC_PAGE_SIZE);
  if (pages <= 0 || page_size <= 0) return uint64_t{1} << 40;
  return static_cast<uint64_t>(pages) * static_cast<uint64_t>(page_size);
}

}  // namespace

absl::Status ValidateManifest(const Manifest& manifest, uint64_t max_bytes) {
  const uint64_t limit = max_bytes != 0 ? max_bytes : PhysicalMemoryBytes();
  const std::string where = absl::StrCat("version ", manifest.version());
  uint64_t total = 0;
  absl::flat_hash_set<std::string> names;
  for (const TensorSpec& spec : manifest.tensors()) {
    if (!names.insert(spec.name()).second) {
      return absl::DataLossError(absl::StrCat(where, ": tensor '", spec.name(), "' listed twice"));
    }
    const uint64_t element = DTypeSize(spec.dtype());
    if (element == 0) {
      return absl::DataLossError(
          absl::StrCat(where, " tensor '", spec.name(), "': unknown dtype ", spec.dtype()));
    }
    uint64_t bytes = element;
    for (uint64_t dim : spec.shape()) {
      if (dim != 0 && bytes > limit / dim) {
        return absl::ResourceExhaustedError(absl::StrCat(
            where, " tensor '", spec.name(), "': shape exceeds the ", limit, "-byte limit"));
      }
      bytes *= dim;
    }
    if (bytes != spec.byte_size()) {
      return absl::DataLossError(absl::StrCat(where, " tensor '", spec.name(), "': shape needs ",
                                              bytes, " bytes, manifest says ", spec.byte_size()));
    }
    total += bytes;
    if (total > limit) {
      return absl::ResourceExhaustedError(
          absl::StrCat(where, ": tensors exceed the ", limit, "-byte limit"));
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<Snapshot> ReadSnapshot(const SnapshotStore& store, uint64_t version,
                                      const LoadOptions& options) {
  Snapshot snapshot;
  ASSIGN_OR_RETURN(snapshot.manifest, store.ReadManifest(version));
  RETURN_IF_ERROR(ValidateManifest(snapshot.manifest, options.max_bytes));
  for (const TensorSpec& spec : snapshot.manifest.tensors()) {
    ASSIGN_OR_RETURN(AlignedBuffer bytes, store.ReadTensor(version, spec));
    snapshot.tensors[spec.name()] =
        Tensor{spec.dtype(), std::vector<uint64_t>(spec.shape().begin(), spec.shape().end()),
               std::move(bytes)};
  }
  return snapshot;
}

absl::StatusOr<std::unique_ptr<const Model>> LoadModel(const SnapshotStore& store, uint64_t version,
                                                       const LoadOptions& options) {
  ASSIGN_OR_RETURN(Snapshot snapshot, ReadSnapshot(store, version, options));
  auto model = Model::Create(std::move(snapshot.manifest), std::move(snapshot.tensors));
  if (!model.ok()) {
    return absl::Status(model.status().code(),
                        absl::StrCat("version ", version, ": ", model.status().message()));
  }
  return model;
}

}  // namespace ranker
