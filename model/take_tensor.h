// Moves one named tensor out of a TensorMap after checking its dtype and shape: how tables, id
// maps and the scorer take their tensors, so every such failure reads and codes the same.
#ifndef RANKER_MODEL_TAKE_TENSOR_H_
#define RANKER_MODEL_TAKE_TENSOR_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "model/snapshot.h"

namespace ranker {

// The bytes of tensor `name`, removed from `tensors`. FAILED_PRECONDITION naming the tensor if
// it is missing or its dtype or shape differ from those given (`tensors` is then unchanged).
absl::StatusOr<AlignedBuffer> TakeTensor(TensorMap& tensors, const std::string& name, DType dtype,
                                         const std::vector<uint64_t>& shape);

}  // namespace ranker

#endif  // RANKER_MODEL_TAKE_TENSOR_H_
