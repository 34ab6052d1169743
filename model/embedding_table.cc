#include "model/embedding_table.h"

#include <limits>

#include "absl/strings/str_cat.h"
#include "common/status_macros.h"
#include "model/head_tail_rows.h"
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
  table.forward_ = FindTableForward(spec);
  table.dot_ = FindTableDot(spec);
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
    if (HasHeadTailRows(spec) && IsRowTensor(tensor)) {
      RETURN_IF_ERROR(table.TakeHeadTail(tensor, tensors));
    }
    if (tensor.role == TensorRole::kEntitySubset) {
      RETURN_IF_ERROR(CheckEntitySubset(name, bytes->as<uint64_t>(), spec.n()));
    }
    table.tensors_[t] = *std::move(bytes);
  }
  table.Bind();
  return table;
}

absl::Status EmbeddingTable::TakeHeadTail(const TensorLayout& tensor, TensorMap& tensors) {
  const auto take = [&](const std::string& name, DType dtype,
                        std::vector<uint64_t> shape) -> absl::StatusOr<AlignedBuffer> {
    absl::StatusOr<AlignedBuffer> bytes = TakeTensor(tensors, name, dtype, std::move(shape));
    if (!bytes.ok()) {
      return absl::FailedPreconditionError(
          absl::StrCat("table '", spec_.feature(), "': ", bytes.status().message()));
    }
    return bytes;
  };
  HeadTail& head_tail = head_tail_;
  ASSIGN_OR_RETURN(head_tail.tail_codes,
                   take(TailTensorNameOf(tensor, spec_), snapshot::UINT8, TailShape(spec_)));
  ASSIGN_OR_RETURN(head_tail.tail_codebook, take(TailCodebookTensorNameOf(tensor, spec_),
                                                 snapshot::FLOAT32, TailCodebookShape(spec_)));
  ASSIGN_OR_RETURN(head_tail.head_bits, take(HeadBitsTensorNameOf(tensor, spec_), snapshot::UINT64,
                                             HeadBitsShape(spec_)));
  RETURN_IF_ERROR(CheckHeadBits(spec_, head_tail.head_bits.as<uint64_t>()));
  ASSIGN_OR_RETURN(head_tail.head_rank, BuildHeadRank(spec_, head_tail.head_bits.as<uint64_t>()));
  return absl::OkStatus();
}

EmbeddingTable& EmbeddingTable::operator=(EmbeddingTable&& other) noexcept {
  if (this == &other) return *this;
  spec_ = std::move(other.spec_);
  tensors_ = std::move(other.tensors_);
  scales_ = std::move(other.scales_);
  codebooks_ = std::move(other.codebooks_);
  head_tail_ = std::move(other.head_tail_);
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
  const bool head_tail = head_tail_.head_rank.size() > 0;
  view_.tail_codes = head_tail ? head_tail_.tail_codes.data() : nullptr;
  view_.tail_codebook = head_tail ? head_tail_.tail_codebook.as<float>().data() : nullptr;
  view_.head_bits = head_tail ? head_tail_.head_bits.as<uint64_t>().data() : nullptr;
  view_.head_rank = head_tail ? head_tail_.head_rank.as<uint32_t>().data() : nullptr;
}

size_t EmbeddingTable::resident_bytes() const {
  size_t bytes = 0;
  for (const AlignedBuffer& tensor : tensors_) bytes += tensor.size();
  for (const AlignedBuffer& scales : scales_) bytes += scales.size();
  for (const AlignedBuffer& codebook : codebooks_) bytes += codebook.size();
  for (const AlignedBuffer& rows : row_index_.rows) bytes += rows.size();
  bytes += head_tail_.tail_codes.size() + head_tail_.tail_codebook.size() +
           head_tail_.head_bits.size() + head_tail_.head_rank.size();
  return bytes;
}

uint64_t EmbeddingTable::parameters() const { return TableParameters(spec_); }

void EmbeddingTable::Embed(uint64_t index, float* out) const { Gather(&index, &index, 1, out); }

void EmbeddingTable::EmbedUnknown(uint64_t raw_id, float* out) const {
  const uint64_t unknown = kUnknown;
  Gather(&unknown, &raw_id, 1, out);
}

}  // namespace ranker
