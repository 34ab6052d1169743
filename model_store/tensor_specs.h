// The tensor list of a manifest, as the store writes it: every tensor's name, dtype, shape,
// byte size and CRC-32C, sorted by name. SnapshotStore::Publish fills it; loaders check it.
#ifndef RANKER_MODEL_STORE_TENSOR_SPECS_H_
#define RANKER_MODEL_STORE_TENSOR_SPECS_H_

#include <cstdint>

#include "model/snapshot.h"

namespace ranker {

// Replaces manifest->tensors with the description of `tensors`.
void DescribeTensors(const TensorMap& tensors, Manifest* manifest);

// The bytes of every tensor the manifest describes.
uint64_t ManifestTensorBytes(const Manifest& manifest);

}  // namespace ranker

#endif  // RANKER_MODEL_STORE_TENSOR_SPECS_H_
