#include "model/embedding_table.h"

#include <limits>

#include "absl/strings/str_cat.h"
#include "common/status_macros.h"
#include "model/table_sizing.h"
#include "model/take_tensor.h"

namespace ranker {
namespace {

absl::Status CheckEntitySubset(const std::string& name, absl::Span<const uint64_t> ids,
                               uint64_t n) {
  for (size_t i = 0; i < ids.size(); ++i) {
    if (ids[i] >= n || (i > 0 && ids[i] <= ids[i - 1])) {
      return absl::FailedPreconditionError(
          absl::StrCat("tensor '", name, "' must hold increasing indices below n (index ", i, ")"));
    }
  }
  return absl::OkStatus();
}

// A level times its scale must stay finite, and a negative scale is no rounding's output.
absl::Status CheckScales(const std::string& name, absl::Span<const float> scales) {
  constexpr float kLargest = std::numeric_limits<float>::max() / 127.0f;
  for (size_t r = 0; r < scales.size(); ++r) {
    if (!(scales[r] >= 0.0f && scales[r] <= kLargest)) {
      return absl::FailedPreconditionError(
          absl::StrCat("tensor '", name, "' must hold scales in [0, FLT_MAX / 127] (row ", r, ")"));
    }
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<EmbeddingTable> EmbeddingTable::Create(const TableSpec& spec, TensorMap& tensors) {
  RETURN_IF_ERROR(CheckTableSpec(spec));
  const TableLayout& layout = *FindTableLayout(spec.kind());
  EmbeddingTable table;
  table.spec_ = spec;
  table.forward_ = FindTableForward(spec.kind(), spec.row_dtype());
  table.dot_ = FindTableDot(spec.kind(), spec.row_dtype());
  if (table.forward_ == nullptr || table.dot_ == nullptr) {
    return absl::FailedPreconditionError(absl::StrCat(
        "table '", spec.feature(), "': kind ", layout.name, " has no forward or retrieval scores"));
  }
  for (size_t t = 0; t < layout.tensors.size(); ++t) {
    const TensorLayout& tensor = layout.tensors[t];
    const std::string name = TensorNameOf(tensor, spec);
    absl::StatusOr<AlignedBuffer> bytes =
        TakeTensor(tensors, name, StoredDType(tensor, spec), StoredShape(tensor, spec));
    if (!bytes.ok()) {
      return absl::FailedPreconditionError(
          absl::StrCat("table '", spec.feature(), "': ", bytes.status().message()));
    }
    if (HasInt8Rows(spec) && IsRowTensor(tensor)) {
      absl::StatusOr<AlignedBuffer> scales =
          TakeTensor(tensors, ScaleTensorNameOf(tensor, spec), snapshot::FLOAT32,
                     {ExtentOf(tensor.rows, spec)});
      if (!scales.ok()) {
        return absl::FailedPreconditionError(
            absl::StrCat("table '", spec.feature(), "': ", scales.status().message()));
      }
      RETURN_IF_ERROR(CheckScales(ScaleTensorNameOf(tensor, spec), scales->as<float>()));
      table.scales_[t] = *std::move(scales);
    }
    if (HasPqRows(spec) && IsRowTensor(tensor)) {
      const std::string codebook_name = CodebookTensorNameOf(tensor, spec);
      absl::StatusOr<AlignedBuffer> codebook =
          TakeTensor(tensors, codebook_name, snapshot::FLOAT32, CodebookShape(spec));
      if (!codebook.ok()) {
        return absl::FailedPreconditionError(
            absl::StrCat("table '", spec.feature(), "': ", codebook.status().message()));
      }
      table.codebooks_[t] = *std::move(codebook);
    }
    if (tensor.role == TensorRole::kEntitySubset) {
      RETURN_IF_ERROR(CheckEntitySubset(name, bytes->as<uint64_t>(), spec.n()));
    }
    table.tensors_[t] = *std::move(bytes);
  }
  table.Bind();
  return table;
}

EmbeddingTable& EmbeddingTable::operator=(EmbeddingTable&& other) noexcept {
  if (this == &other) return *this;
  spec_ = std::move(other.spec_);
  tensors_ = std::move(other.tensors_);
  scales_ = std::move(other.scales_);
  codebooks_ = std::move(other.codebooks_);
  row_index_ = std::move(other.row_index_);
  retrieval_enabled_ = other.retrieval_enabled_;
  forward_ = other.forward_;
  dot_ = other.dot_;
  Bind();
  other.forward_ = nullptr;
  other.dot_ = nullptr;
  other.view_ = TableTensors();
  return *this;
}

absl::Status EmbeddingTable::EnableRetrieval() {
  if (retrieval_enabled_) return absl::OkStatus();
  ASSIGN_OR_RETURN(row_index_, BuildDotRowIndex(view_));
  Bind();
  retrieval_enabled_ = true;
  return absl::OkStatus();
}

void EmbeddingTable::Bind() {
  view_.spec = &spec_;
  for (size_t t = 0; t < kMaxTableTensors; ++t) {
    view_.data[t] = tensors_[t].data();
    view_.scales[t] = scales_[t].size() > 0 ? scales_[t].as<float>().data() : nullptr;
    view_.codebooks[t] = codebooks_[t].size() > 0 ? codebooks_[t].as<float>().data() : nullptr;
  }
  for (size_t r = 0; r < view_.rows.size(); ++r) {
    const AlignedBuffer& rows = row_index_.rows[r];
    view_.rows[r] = rows.size() > 0 ? rows.as<uint32_t>().data() : nullptr;
  }
}

size_t EmbeddingTable::resident_bytes() const {
  size_t bytes = 0;
  for (const AlignedBuffer& tensor : tensors_) bytes += tensor.size();
  for (const AlignedBuffer& scales : scales_) bytes += scales.size();
  for (const AlignedBuffer& codebook : codebooks_) bytes += codebook.size();
  for (const AlignedBuffer& rows : row_index_.rows) bytes += rows.size();
  return bytes;
}

uint64_t EmbeddingTable::parameters() const { return TableParameters(spec_); }

void EmbeddingTable::Embed(uint64_t index, float* out) const { Gather(&index, &index, 1, out); }

void EmbeddingTable::EmbedUnknown(uint64_t raw_id, float* out) const {
  const uint64_t unknown = kUnknown;
  Gather(&unknown, &raw_id, 1, out);
}

}  // namespace ranker
