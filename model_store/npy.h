// Reading (and, for tests and tools, writing) NumPy .npy files: version 1.0-3.0 headers,
// little-endian float32 ('<f4') or uint64 ('<u8'), C order. Anything else is refused with a
// message naming the file.
#ifndef RANKER_MODEL_STORE_NPY_H_
#define RANKER_MODEL_STORE_NPY_H_

#include <string>

#include "absl/status/statusor.h"
#include "model/snapshot.h"

namespace ranker {

absl::StatusOr<Tensor> ReadNpy(const std::string& path);
absl::Status WriteNpy(const std::string& path, const Tensor& tensor);

}  // namespace ranker

#endif  // RANKER_MODEL_STORE_NPY_H_
