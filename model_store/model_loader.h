// Loads one snapshot version from a store into a verified, immutable Model.
// The manifest is checked before anything large is allocated (shapes agree with byte sizes,
// no overflow, total within `max_bytes`); then every tensor's chunks and CRC-32C are checked,
// then Model::Create checks shapes against the tables and scorer. Any failure leaves nothing
// behind and names the version and tensor.
#ifndef RANKER_MODEL_STORE_MODEL_LOADER_H_
#define RANKER_MODEL_STORE_MODEL_LOADER_H_

#include <cstdint>
#include <memory>

#include "absl/status/statusor.h"
#include "model/model.h"
#include "model_store/snapshot_store.h"

namespace ranker {

struct LoadOptions {
  // Refuse snapshots whose tensors add up to more; 0 = the machine's physical memory.
  uint64_t max_bytes = 0;
};

// OK if the manifest is self-consistent: each tensor's byte size equals its shape times its
// dtype size (without overflow) and the total is at most `max_bytes`.
absl::Status ValidateManifest(const Manifest& manifest, uint64_t max_bytes);

// Reads and verifies every tensor of `version` (DATA_LOSS on a bad chunk or checksum).
absl::StatusOr<Snapshot> ReadSnapshot(const SnapshotStore& store, uint64_t version,
                                      const LoadOptions& options = {});

absl::StatusOr<std::unique_ptr<const Model>> LoadModel(const SnapshotStore& store, uint64_t version,
                                                       const LoadOptions& options = {});

}  // namespace ranker

#endif  // RANKER_MODEL_STORE_MODEL_LOADER_H_
