#include "model/row_codec.h"

#include "absl/strings/str_cat.h"
#include "model/head_tail_rows.h"
#include "model/int8_rows.h"
#include "model/pq_rows.h"

namespace ranker {
namespace {

// Head/tail codes need to know which items are popular: the history model's popularity prior.
absl::Status EncodeHeadTail(const RowStorage& storage, uint64_t seed, TableSpec* spec,
                            TensorMap* tensors) {
  auto popularity = tensors->find("popularity");
  if (popularity == tensors->end() || popularity->second.dtype != snapshot::FLOAT32) {
    return absl::FailedPreconditionError(
        absl::StrCat("row storage ", RowStorageName(storage),
                     " needs the model's item popularity (history models have it)"));
  }
  HeadTailOptions options;
  options.head.subvectors = storage.pq_subvectors;
  options.head.bits = storage.pq_bits;
  options.head.seed = seed;
  options.tail.subvectors = storage.tail_pq_subvectors;
  options.tail.bits = storage.tail_pq_bits;
  options.head_percent = storage.head_percent;
  // Copied: the span must not alias a map the conversion inserts into.
  const auto values = popularity->second.bytes.as<float>();
  const std::vector<float> copy(values.begin(), values.end());
  return ConvertTableToHeadTailPq(options, copy, spec, tensors);
}

}  // namespace

absl::Status EncodeTableRows(const RowStorage& storage, uint64_t seed, TableSpec* spec,
                             TensorMap* tensors) {
  switch (storage.dtype) {
    case snapshot::DTYPE_UNSPECIFIED:
    case snapshot::FLOAT32:
      return absl::OkStatus();
    case snapshot::INT8:
      return ConvertTableToInt8(spec, tensors);
    case snapshot::UINT8: {
      if (IsHeadTail(storage)) return EncodeHeadTail(storage, seed, spec, tensors);
      PqOptions options;
      options.subvectors = storage.pq_subvectors;
      options.bits = storage.pq_bits;
      options.seed = seed;
      return ConvertTableToPq(options, spec, tensors);
    }
    default:
      return absl::InvalidArgumentError("unknown row storage");
  }
}

}  // namespace ranker
