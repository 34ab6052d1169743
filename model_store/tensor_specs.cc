#include "model_store/tensor_specs.h"

#include <algorithm>
#include <string>
#include <vector>

#include "common/crc32c.h"

namespace ranker {

void DescribeTensors(const TensorMap& tensors, Manifest* manifest) {
  std::vector<std::string> names;
  names.reserve(tensors.size());
  for (const auto& [name, tensor] : tensors) names.push_back(name);
  std::sort(names.begin(), names.end());
  manifest->clear_tensors();
  for (const std::string& name : names) {
    const Tensor& tensor = tensors.at(name);
    TensorSpec* spec = manifest->add_tensors();
    spec->set_name(name);
    spec->set_dtype(tensor.dtype);
    for (uint64_t dim : tensor.shape) spec->add_shape(dim);
    spec->set_byte_size(tensor.bytes.size());
    spec->set_crc32c(Crc32c(tensor.bytes.data(), tensor.bytes.size()));
  }
}

uint64_t ManifestTensorBytes(const Manifest& manifest) {
  uint64_t bytes = 0;
  for (const TensorSpec& t : manifest.tensors()) bytes += t.byte_size();
  return bytes;
}

}  // namespace ranker
