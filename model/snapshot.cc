#include "model/snapshot.h"

#include <algorithm>
#include <cstring>

#include "absl/strings/str_cat.h"

namespace ranker {

size_t DTypeSize(DType dtype) {
  switch (dtype) {
    case snapshot::FLOAT32:
      return 4;
    case snapshot::UINT64:
      return 8;
    case snapshot::INT8:
    case snapshot::UINT8:
      return 1;
    default:
      return 0;
  }
}

absl::StatusOr<Tensor> MakeFloatTensor(std::vector<uint64_t> shape) {
  uint64_t elements = 1;
  for (uint64_t dim : shape) elements *= dim;
  auto bytes = AlignedBuffer::Allocate(elements * sizeof(float));
  if (!bytes.ok()) return bytes.status();
  std::memset(bytes->data(), 0, bytes->size());
  return Tensor{snapshot::FLOAT32, std::move(shape), *std::move(bytes)};
}

absl::StatusOr<Tensor> MakeByteTensor(DType dtype, std::vector<uint64_t> shape) {
  uint64_t elements = 1;
  for (uint64_t dim : shape) elements *= dim;
  auto bytes = AlignedBuffer::Allocate(elements);
  if (!bytes.ok()) return bytes.status();
  std::memset(bytes->data(), 0, bytes->size());
  return Tensor{dtype, std::move(shape), *std::move(bytes)};
}

absl::StatusOr<Tensor> MakeInt8Tensor(std::vector<uint64_t> shape) {
  return MakeByteTensor(snapshot::INT8, std::move(shape));
}

absl::StatusOr<Tensor> MakeUint8Tensor(std::vector<uint64_t> shape) {
  return MakeByteTensor(snapshot::UINT8, std::move(shape));
}

absl::StatusOr<Tensor> MakeUint64Tensor(absl::Span<const uint64_t> values) {
  auto bytes = AlignedBuffer::FromSpan(values);
  if (!bytes.ok()) return bytes.status();
  return Tensor{snapshot::UINT64, {values.size()}, *std::move(bytes)};
}

std::string TableTensorName(const std::string& feature, const char* part) {
  return absl::StrCat(feature, "/", part);
}

std::string MlpTensorName(size_t layer, const char* part) {
  return absl::StrCat("mlp/", layer, "/", part);
}

absl::StatusOr<TensorMap> CopyTensors(const TensorMap& tensors) {
  TensorMap copy;
  for (const auto& [name, tensor] : tensors) {
    auto bytes = AlignedBuffer::Allocate(tensor.bytes.size());
    if (!bytes.ok()) return bytes.status();
    std::memcpy(bytes->data(), tensor.bytes.data(), tensor.bytes.size());
    copy[name] = Tensor{tensor.dtype, tensor.shape, *std::move(bytes)};
  }
  return copy;
}

}  // namespace ranker
