#include "fuzz/fuzz_util.h"

#include <cstring>

#include "model_store/model_loader.h"

namespace ranker::fuzz {

absl::StatusOr<std::unique_ptr<const Model>> BuildModel(const Manifest& manifest,
                                                        const uint8_t* payload, size_t size) {
  absl::Status valid = ValidateManifest(manifest, kMaxSnapshotBytes);
  if (!valid.ok()) return valid;
  TensorMap tensors;
  size_t cursor = 0;
  for (const TensorSpec& spec : manifest.tensors()) {
    Tensor tensor;
    tensor.dtype = spec.dtype();
    tensor.shape.assign(spec.shape().begin(), spec.shape().end());
    absl::StatusOr<AlignedBuffer> bytes = AlignedBuffer::Allocate(spec.byte_size());
    if (!bytes.ok()) return bytes.status();
    tensor.bytes = *std::move(bytes);
    for (size_t i = 0; i < tensor.bytes.size(); ++i) {
      tensor.bytes.data()[i] = size == 0 ? 0 : payload[cursor++ % size];
    }
    tensors[spec.name()] = std::move(tensor);
  }
  return Model::Create(manifest, std::move(tensors));
}

void ExerciseModel(const Model& model) {
  RankScratch scratch;
  RankResult result;
  const uint64_t ids[] = {0, 1, 2, 7, 3, 3, 1000003, UINT64_MAX, 42};
  for (uint64_t user : {uint64_t{0}, uint64_t{1}, uint64_t{12345}, UINT64_MAX}) {
    model.Rank(user, {}, 10, &scratch, &result);
    model.Rank(user, ids, 4, &scratch, &result);
    model.Rank(user, ids, 0, &scratch, &result);
  }
}

}  // namespace ranker::fuzz
