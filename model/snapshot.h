// A model snapshot in memory: its manifest and its named tensors. This is what the trainer,
// the importer and `ranker-store demo` build, what the store publishes, and what Model reads.
#ifndef RANKER_MODEL_SNAPSHOT_H_
#define RANKER_MODEL_SNAPSHOT_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "model/aligned_buffer.h"
#include "proto/snapshot.pb.h"

namespace ranker {

using snapshot::DType;
using snapshot::Manifest;
using snapshot::TableKind;
using snapshot::TableSpec;
using snapshot::TensorSpec;

struct Tensor {
  DType dtype = snapshot::FLOAT32;
  std::vector<uint64_t> shape;
  AlignedBuffer bytes;  // little-endian, C order
};

using TensorMap = absl::flat_hash_map<std::string, Tensor>;

struct Snapshot {
  // Tables, scorer and producer are set by whoever builds the snapshot; version, creation time
  // and the tensor specs are filled in when it is published (model_store/tensor_specs.h).
  Manifest manifest;
  TensorMap tensors;
};

// Bytes per element of `dtype`, 0 if unknown.
size_t DTypeSize(DType dtype);

// Allocates a zero-filled float tensor of `shape`.
absl::StatusOr<Tensor> MakeFloatTensor(std::vector<uint64_t> shape);
// Allocates a zero-filled int8 tensor of `shape`.
absl::StatusOr<Tensor> MakeInt8Tensor(std::vector<uint64_t> shape);
// Allocates a zero-filled uint8 tensor of `shape`.
absl::StatusOr<Tensor> MakeUint8Tensor(std::vector<uint64_t> shape);
// Copies `values` into a UINT64 tensor of shape [values.size()].
absl::StatusOr<Tensor> MakeUint64Tensor(absl::Span<const uint64_t> values);

// Tensor names: "<feature>/<part>" for tables and "mlp/<layer>/<weight|bias>" for the scorer.
std::string TableTensorName(const std::string& feature, const char* part);
std::string MlpTensorName(size_t layer, const char* part);

// A deep copy (tensors are move-only).
absl::StatusOr<TensorMap> CopyTensors(const TensorMap& tensors);

}  // namespace ranker

#endif  // RANKER_MODEL_SNAPSHOT_H_
