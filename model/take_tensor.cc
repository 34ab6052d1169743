#include "model/take_tensor.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace ranker {
namespace {

std::string Describe(DType dtype, const std::vector<uint64_t>& shape) {
  return absl::StrCat(snapshot::DType_Name(dtype), " [", absl::StrJoin(shape, ","), "]");
}

}  // namespace

absl::StatusOr<AlignedBuffer> TakeTensor(TensorMap& tensors, const std::string& name, DType dtype,
                                         const std::vector<uint64_t>& shape) {
  auto it = tensors.find(name);
  if (it == tensors.end()) {
    return absl::FailedPreconditionError(
        absl::StrCat("tensor '", name, "' is missing (expected ", Describe(dtype, shape), ")"));
  }
  if (it->second.dtype != dtype || it->second.shape != shape) {
    return absl::FailedPreconditionError(absl::StrCat("tensor '", name, "' is ",
                                                      Describe(it->second.dtype, it->second.shape),
                                                      ", expected ", Describe(dtype, shape)));
  }
  AlignedBuffer bytes = std::move(it->second.bytes);
  tensors.erase(it);
  return bytes;
}

}  // namespace ranker
