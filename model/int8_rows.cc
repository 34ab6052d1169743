#include "model/int8_rows.h"

#include <algorithm>
#include <cmath>

#include "absl/strings/str_cat.h"
#include "common/status_macros.h"
#include "model/table_layout.h"

namespace ranker {

float QuantizeRowInt8(const float* row, size_t d, int8_t* levels) {
  float max_abs = 0;
  for (size_t k = 0; k < d; ++k) max_abs = std::max(max_abs, std::abs(row[k]));
  const float scale = max_abs / 127.0f;
  if (!(scale > 0)) {  // a zero row, or one so small that its step underflows
    std::fill(levels, levels + d, int8_t{0});
    return 0.0f;
  }
  for (size_t k = 0; k < d; ++k) {
    levels[k] = static_cast<int8_t>(std::clamp(std::nearbyint(row[k] / scale), -127.0f, 127.0f));
  }
  return scale;
}

absl::Status ConvertTableToInt8(TableSpec* spec, TensorMap* tensors) {
  const TableLayout* layout = FindTableLayout(spec->kind());
  if (layout == nullptr) return absl::FailedPreconditionError("unknown table kind");
  if (HasInt8Rows(*spec)) {
    return absl::FailedPreconditionError(
        absl::StrCat("table '", spec->feature(), "' already has int8 rows"));
  }
  // Everything is checked before anything changes, so a refused table is left as it was.
  RETURN_IF_ERROR(CheckRowsToEncode(*spec, *tensors, "_scale", "int8"));
  for (const TensorLayout& tensor : layout->tensors) {
    if (!IsRowTensor(tensor)) continue;
    auto it = tensors->find(TensorNameOf(tensor, *spec));
    const std::vector<uint64_t> shape = TensorShape(tensor, *spec);
    const uint64_t rows = shape[0], d = shape[1];
    ASSIGN_OR_RETURN(Tensor levels, MakeInt8Tensor(shape));
    ASSIGN_OR_RETURN(Tensor scales, MakeFloatTensor({rows}));
    const float* values = it->second.bytes.as<float>().data();
    int8_t* out = levels.bytes.as<int8_t>().data();
    float* scale = scales.bytes.as<float>().data();
    for (uint64_t r = 0; r < rows; ++r) scale[r] = QuantizeRowInt8(values + r * d, d, out + r * d);
    it->second = std::move(levels);
    (*tensors)[ScaleTensorNameOf(tensor, *spec)] = std::move(scales);
  }
  spec->set_row_dtype(snapshot::INT8);
  return absl::OkStatus();
}

}  // namespace ranker
