#include "model/table_sizing.h"

#include <algorithm>

#include "absl/strings/str_cat.h"

namespace ranker {

std::string HashName(const TableSpec& spec) {
  if (spec.hash() == snapshot::MIX) return absl::StrCat("mix:", spec.hash_seed());
  return "identity";
}

uint64_t TableParameters(const TableSpec& spec) {
  const TableLayout* layout = FindTableLayout(spec.kind());
  if (layout == nullptr) return 0;
  uint64_t bytes = 0;
  for (const TensorLayout& tensor : layout->tensors) {
    uint64_t elements = 1;
    for (uint64_t dim : TensorShape(tensor, spec)) elements *= dim;
    bytes += elements * DTypeSize(TensorDType(tensor));
  }
  return bytes / sizeof(float);
}

uint64_t StoredTableBytes(const TableSpec& spec) {
  const TableLayout* layout = FindTableLayout(spec.kind());
  if (layout == nullptr) return 0;
  uint64_t bytes = 0;
  for (const TensorLayout& tensor : layout->tensors) {
    uint64_t elements = 1;
    for (uint64_t dim : StoredShape(tensor, spec)) elements *= dim;
    bytes += elements * DTypeSize(StoredDType(tensor, spec));
    if (!IsRowTensor(tensor)) continue;
    if (HasInt8Rows(spec)) bytes += ExtentOf(tensor.rows, spec) * sizeof(float);  // scales
    if (HasPqRows(spec)) {
      const std::vector<uint64_t> codebook = CodebookShape(spec);
      bytes += codebook[0] * codebook[1] * sizeof(float);
    }
    if (HasHeadTailRows(spec)) {
      const std::vector<uint64_t> tail = TailShape(spec), codebook = TailCodebookShape(spec);
      bytes += tail[0] * tail[1] + codebook[0] * codebook[1] * sizeof(float) +
               HeadBitsShape(spec)[0] * sizeof(uint64_t);
    }
  }
  return bytes;
}

absl::StatusOr<TableSpec> SizeTable(const std::string& feature, TableKind kind, uint64_t n,
                                    uint32_t d, double ratio, bool clamp) {
  const TableLayout* layout = FindTableLayout(kind);
  if (layout == nullptr) return absl::InvalidArgumentError("unknown table kind");
  if (n == 0 || d == 0) return absl::InvalidArgumentError("tables need n >= 1 and d >= 1");
  if (UsesSharedRows(*layout) && !(ratio >= 1.0)) {
    return absl::InvalidArgumentError(absl::StrCat("compression ratio must be >= 1, got ", ratio));
  }
  TableSpec spec;
  spec.set_feature(feature);
  spec.set_kind(kind);
  spec.set_n(n);
  spec.set_d(d);
  spec.set_hash(snapshot::IDENTITY);
  const double budget = static_cast<double>(n) * d / ratio;  // parameters allowed
  if (absl::Status status = layout->size(budget, clamp, &spec); !status.ok()) return status;
  spec.set_m(std::clamp<uint64_t>(spec.m(), 1, n));
  return spec;
}

}  // namespace ranker
