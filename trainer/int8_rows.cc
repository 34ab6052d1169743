#include "trainer/int8_rows.h"

#include <algorithm>
#include <cmath>

#include "absl/strings/str_cat.h"
#include "model/table_layout.h"

namespace ranker {

void QuantizeRowsInt8(float* values, size_t rows, size_t d) {
  for (size_t r = 0; r < rows; ++r) {
    float* row = values + r * d;
    float max_abs = 0;
    for (size_t k = 0; k < d; ++k) max_abs = std::max(max_abs, std::abs(row[k]));
    if (max_abs == 0) continue;
    const float scale = max_abs / 127.0f;
    for (size_t k = 0; k < d; ++k) {
      row[k] = std::clamp(std::nearbyint(row[k] / scale), -127.0f, 127.0f) * scale;
    }
  }
}

absl::Status QuantizeTableInt8(const TableSpec& spec, TensorMap* tensors) {
  const TableLayout* layout = FindTableLayout(spec.kind());
  if (layout == nullptr) return absl::FailedPreconditionError("unknown table kind");
  for (const TensorLayout& tensor : layout->tensors) {
    if (tensor.role != TensorRole::kParameter || !tensor.per_dimension) continue;
    auto it = tensors->find(TensorNameOf(tensor, spec));
    if (it == tensors->end()) {
      return absl::FailedPreconditionError(
          absl::StrCat("no tensor ", TensorNameOf(tensor, spec), " to quantize"));
    }
    QuantizeRowsInt8(it->second.bytes.as<float>().data(), ExtentOf(tensor.rows, spec), spec.d());
  }
  return absl::OkStatus();
}

uint64_t Int8TableBytes(const TableSpec& spec) {
  const TableLayout* layout = FindTableLayout(spec.kind());
  if (layout == nullptr) return 0;
  uint64_t bytes = 0;
  for (const TensorLayout& tensor : layout->tensors) {
    const uint64_t rows = ExtentOf(tensor.rows, spec);
    if (tensor.role == TensorRole::kParameter && tensor.per_dimension) {
      bytes += rows * (spec.d() + sizeof(float));  // int8 levels and the row's scale
    } else {
      bytes += rows * (tensor.per_dimension ? spec.d() : 1) * DTypeSize(TensorDType(tensor));
    }
  }
  return bytes;
}

}  // namespace ranker
