#include "model/head_tail_rows.h"

#include <algorithm>
#include <bit>
#include <cmath>
#include <limits>
#include <numeric>
#include <string>

#include "absl/strings/str_cat.h"
#include "common/status_macros.h"
#include "model/table_layout.h"
#include "model/table_rows.h"

namespace ranker {
namespace {

// The one row tensor of a full table.
const TensorLayout& FullRows() { return FindTableLayout(snapshot::FULL)->tensors[0]; }

// Copies the codes and codebook of `encoding` into fresh tensors of the given shapes.
absl::Status MakePqTensors(const PqEncoding& encoding, std::vector<uint64_t> codes_shape,
                           std::vector<uint64_t> codebook_shape, Tensor* codes, Tensor* codebook) {
  ASSIGN_OR_RETURN(*codes, MakeUint8Tensor(std::move(codes_shape)));
  ASSIGN_OR_RETURN(*codebook, MakeFloatTensor(std::move(codebook_shape)));
  std::copy(encoding.codes.begin(), encoding.codes.end(), codes->bytes.as<uint8_t>().begin());
  std::copy(encoding.codebook.begin(), encoding.codebook.end(),
            codebook->bytes.as<float>().begin());
  return absl::OkStatus();
}

// Decodes one row of codes into d floats.
void DecodeRow(const PqRow& row, uint32_t d, float* out) {
  for (uint32_t j = 0; j * row.sub < d; ++j)
    std::copy_n(row.Centroid(j), row.sub, out + j * row.sub);
}

}  // namespace

uint64_t HeadRowsOf(uint64_t n, uint32_t head_percent) {
  return static_cast<uint64_t>(std::llround(static_cast<double>(n) * head_percent / 100.0));
}

absl::Status ConvertTableToHeadTailPq(const HeadTailOptions& options,
                                      absl::Span<const float> popularity, TableSpec* spec,
                                      TensorMap* tensors) {
  const std::string where = absl::StrCat("table '", spec->feature(), "'");
  if (spec->kind() != snapshot::FULL) {
    return absl::FailedPreconditionError(absl::StrCat(where, ": head/tail rows need a full table"));
  }
  if (spec->row_dtype() != snapshot::DTYPE_UNSPECIFIED && spec->row_dtype() != snapshot::FLOAT32) {
    return absl::FailedPreconditionError(
        absl::StrCat(where, " has ", RowDTypeName(spec->row_dtype()), " rows already"));
  }
  if (options.head_percent < 1 || options.head_percent > 99) {
    return absl::FailedPreconditionError(
        absl::StrCat(where, ": head percent ", options.head_percent, " is not in 1..99"));
  }
  const uint64_t n = spec->n();
  const uint32_t d = spec->d();
  if (popularity.size() != n || !std::all_of(popularity.begin(), popularity.end(),
                                             [](float p) { return std::isfinite(p); })) {
    return absl::FailedPreconditionError(
        absl::StrCat(where, ": head/tail rows need a finite popularity per item (",
                     popularity.size(), " values for ", n, " items)"));
  }
  RowStorage storage;
  storage.dtype = snapshot::UINT8;
  storage.pq_subvectors = options.head.subvectors;
  storage.pq_bits = options.head.bits;
  storage.head_percent = options.head_percent;
  storage.tail_pq_subvectors = options.tail.subvectors;
  storage.tail_pq_bits = options.tail.bits;
  TableSpec converted = *spec;
  SetRowStorage(storage, &converted);
  const uint64_t head_rows = HeadRowsOf(n, options.head_percent);
  converted.set_head_rows(head_rows);
  RETURN_IF_ERROR(CheckTableSpec(converted));
  // Everything is checked before anything changes, so a refused table is left as it was.
  RETURN_IF_ERROR(CheckRowsToEncode(*spec, *tensors, "_codebook", "pq"));

  std::vector<uint64_t> order(n);
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(),
                   [&](uint64_t a, uint64_t b) { return popularity[a] > popularity[b]; });
  std::vector<uint64_t> bits(HeadBitsShape(converted)[0], 0);
  for (uint64_t r = 0; r < head_rows; ++r) bits[order[r] / 64] |= uint64_t{1} << (order[r] % 64);

  const TensorLayout& layout = FullRows();
  auto it = tensors->find(TensorNameOf(layout, *spec));
  const float* rows = it->second.bytes.as<float>().data();
  // Each group's rows in entity order: a group's row r is its r-th entity.
  std::vector<float> head(head_rows * d), tail((n - head_rows) * d);
  for (uint64_t i = 0, h = 0, t = 0; i < n; ++i) {
    const bool in_head = (bits[i / 64] >> (i % 64)) & 1;
    float* out = in_head ? &head[h++ * d] : &tail[t++ * d];
    std::copy_n(rows + i * d, d, out);
  }
  PqOptions head_options = options.head, tail_options = options.tail;
  tail_options.seed = head_options.seed + 1;
  const PqEncoding head_encoding = EncodePq(head.data(), head_rows, d, head_options);
  const PqEncoding tail_encoding = EncodePq(tail.data(), n - head_rows, d, tail_options);
  Tensor head_codes, head_codebook, tail_codes, tail_codebook;
  RETURN_IF_ERROR(MakePqTensors(head_encoding, StoredShape(layout, converted),
                                CodebookShape(converted), &head_codes, &head_codebook));
  RETURN_IF_ERROR(MakePqTensors(tail_encoding, TailShape(converted), TailCodebookShape(converted),
                                &tail_codes, &tail_codebook));
  ASSIGN_OR_RETURN(Tensor head_bits, MakeUint64Tensor(bits));
  it->second = std::move(head_codes);
  (*tensors)[CodebookTensorNameOf(layout, *spec)] = std::move(head_codebook);
  (*tensors)[TailTensorNameOf(layout, *spec)] = std::move(tail_codes);
  (*tensors)[TailCodebookTensorNameOf(layout, *spec)] = std::move(tail_codebook);
  (*tensors)[HeadBitsTensorNameOf(layout, *spec)] = std::move(head_bits);
  *spec = converted;
  return absl::OkStatus();
}

absl::Status CheckHeadBits(const TableSpec& spec, absl::Span<const uint64_t> bits) {
  const uint64_t n = spec.n();
  if (spec.head_rows() > std::numeric_limits<uint32_t>::max()) {  // the rank directory's width
    return absl::FailedPreconditionError(absl::StrCat(
        "table '", spec.feature(), "': head_rows=", spec.head_rows(), " exceeds 2^32 - 1"));
  }
  uint64_t count = 0;
  for (uint64_t w = 0; w < bits.size(); ++w) {
    const uint64_t valid = w * 64 + 64 <= n ? ~uint64_t{0} : (uint64_t{1} << (n % 64)) - 1;
    if (w * 64 >= n || (bits[w] & ~valid) != 0) {
      return absl::FailedPreconditionError(
          absl::StrCat("table '", spec.feature(), "': head bits mark entities at or above n=", n));
    }
    count += static_cast<uint64_t>(std::popcount(bits[w]));
  }
  if (bits.size() != HeadBitsShape(spec)[0] || count != spec.head_rows()) {
    return absl::FailedPreconditionError(
        absl::StrCat("table '", spec.feature(), "': head bits mark ", count,
                     " entities, not head_rows=", spec.head_rows()));
  }
  return absl::OkStatus();
}

absl::StatusOr<AlignedBuffer> BuildHeadRank(const TableSpec& spec,
                                            absl::Span<const uint64_t> bits) {
  const uint64_t blocks = spec.n() / kHeadRankBlock + 1;
  ASSIGN_OR_RETURN(AlignedBuffer buffer, AlignedBuffer::Allocate(blocks * sizeof(uint32_t)));
  absl::Span<uint32_t> rank = buffer.as<uint32_t>();
  uint64_t count = 0;
  constexpr uint64_t kWordsPerBlock = kHeadRankBlock / 64;
  for (uint64_t b = 0; b < blocks; ++b) {
    rank[b] = static_cast<uint32_t>(count);
    for (uint64_t w = b * kWordsPerBlock;
         w < std::min<uint64_t>(bits.size(), (b + 1) * kWordsPerBlock); ++w) {
      count += static_cast<uint64_t>(std::popcount(bits[w]));
    }
  }
  return buffer;
}

absl::StatusOr<std::vector<float>> DecodeHeadTailTable(const TableSpec& spec,
                                                       const TensorMap& tensors) {
  RETURN_IF_ERROR(CheckTableSpec(spec));
  if (!HasHeadTailRows(spec)) {
    return absl::FailedPreconditionError(
        absl::StrCat("table '", spec.feature(), "' has no head/tail rows"));
  }
  const TensorLayout& layout = FullRows();
  struct Wanted {
    std::string name;
    DType dtype;
    std::vector<uint64_t> shape;
  };
  const Wanted wanted[] = {
      {TensorNameOf(layout, spec), snapshot::UINT8, StoredShape(layout, spec)},
      {CodebookTensorNameOf(layout, spec), snapshot::FLOAT32, CodebookShape(spec)},
      {TailTensorNameOf(layout, spec), snapshot::UINT8, TailShape(spec)},
      {TailCodebookTensorNameOf(layout, spec), snapshot::FLOAT32, TailCodebookShape(spec)},
      {HeadBitsTensorNameOf(layout, spec), snapshot::UINT64, HeadBitsShape(spec)}};
  const Tensor* found[5];
  for (size_t k = 0; k < 5; ++k) {
    auto it = tensors.find(wanted[k].name);
    if (it == tensors.end() || it->second.dtype != wanted[k].dtype ||
        it->second.shape != wanted[k].shape) {
      return absl::FailedPreconditionError(
          absl::StrCat("no head/tail tensor ", wanted[k].name, " of the table's shape"));
    }
    found[k] = &it->second;
  }
  const absl::Span<const uint64_t> bits = found[4]->bytes.as<uint64_t>();
  RETURN_IF_ERROR(CheckHeadBits(spec, bits));
  ASSIGN_OR_RETURN(AlignedBuffer rank, BuildHeadRank(spec, bits));
  TableTensors view;
  view.spec = &spec;
  view.data[0] = found[0]->bytes.data();
  view.codebooks[0] = found[1]->bytes.as<float>().data();
  view.tail_codes = found[2]->bytes.as<uint8_t>().data();
  view.tail_codebook = found[3]->bytes.as<float>().data();
  view.head_bits = bits.data();
  view.head_rank = rank.as<uint32_t>().data();
  const uint32_t d = spec.d();
  std::vector<float> rows(spec.n() * d);
  for (uint64_t i = 0; i < spec.n(); ++i) {
    DecodeRow(HeadTailPqRows::At(view, 0, i), d, rows.data() + i * d);
  }
  return rows;
}

}  // namespace ranker
