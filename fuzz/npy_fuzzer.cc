// Fuzzes the .npy reader used by `ranker-store import` (files from other tools, untrusted):
// arbitrary bytes are written to a file and read back; the reader must refuse or return a
// tensor whose bytes match its shape, never crash or over-allocate.
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "model_store/npy.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const std::string path = "/tmp/npy-fuzzer-" + std::to_string(getpid()) + ".npy";
  FILE* file = std::fopen(path.c_str(), "wb");
  if (file == nullptr) std::abort();
  if (size > 0 && std::fwrite(data, 1, size, file) != size) std::abort();
  std::fclose(file);
  auto tensor = ranker::ReadNpy(path);
  if (tensor.ok()) {
    uint64_t elements = 1;
    for (uint64_t dim : tensor->shape) elements *= dim;
    if (elements * ranker::DTypeSize(tensor->dtype) != tensor->bytes.size()) std::abort();
  }
  std::remove(path.c_str());
  return 0;
}
