#include "model/row_codec.h"

#include "model/int8_rows.h"
#include "model/pq_rows.h"

namespace ranker {

absl::Status EncodeTableRows(const RowStorage& storage, uint64_t seed, TableSpec* spec,
                             TensorMap* tensors) {
  switch (storage.dtype) {
    case snapshot::DTYPE_UNSPECIFIED:
    case snapshot::FLOAT32:
      return absl::OkStatus();
    case snapshot::INT8:
      return ConvertTableToInt8(spec, tensors);
    case snapshot::UINT8: {
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
