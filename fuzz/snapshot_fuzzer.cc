// Fuzzes snapshot decoding with tensor contents: the input is a manifest (length-prefixed,
// 4 bytes little-endian) followed by bytes that fill its tensors, so id maps, weights and MLP
// parameters take arbitrary values (NaN, infinities, duplicate or huge ids) on their way
// through validation, Model::Create and ranking.
#include <cstddef>
#include <cstdint>
#include <cstring>

#include "fuzz/fuzz_util.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 4) return 0;
  uint32_t manifest_size = 0;
  std::memcpy(&manifest_size, data, 4);
  if (manifest_size > size - 4) return 0;
  ranker::Manifest manifest;
  if (!manifest.ParseFromArray(data + 4, static_cast<int>(manifest_size))) return 0;
  const uint8_t* payload = data + 4 + manifest_size;
  auto model = ranker::fuzz::BuildModel(manifest, payload, size - 4 - manifest_size);
  if (model.ok()) ranker::fuzz::ExerciseModel(**model);
  return 0;
}
