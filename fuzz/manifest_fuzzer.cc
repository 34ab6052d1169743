// Fuzzes manifest decoding: arbitrary bytes as a stored manifest go through parsing, the
// loader's validation and, when valid, Model::Create over tensors of the declared shapes.
// Any crash, leak, sanitizer report or allocation past libFuzzer's limit is a finding.
#include <cstddef>
#include <cstdint>

#include "fuzz/fuzz_util.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  ranker::Manifest manifest;
  if (!manifest.ParseFromArray(data, static_cast<int>(size))) return 0;
  auto model = ranker::fuzz::BuildModel(manifest, nullptr, 0);
  if (model.ok()) ranker::fuzz::ExerciseModel(**model);
  return 0;
}
