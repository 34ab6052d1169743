#include "model/table_layout.h"

#include <algorithm>
#include <cmath>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "common/status_macros.h"

namespace ranker {
namespace {

constexpr TensorRole kParam = TensorRole::kParameter;

// ---- full: E[i], n x d -------------------------------------------------------------------
constexpr TensorLayout kFullTensors[] = {{"embeddings", kParam, Extent::kN, true, 0.0f}};

absl::Status SizeFull(double, bool, TableSpec* spec) {
  spec->set_m(spec->n());
  return absl::OkStatus();
}

absl::Status CheckFull(const TableSpec& spec) {
  if (spec.m() != spec.n()) return absl::FailedPreconditionError("full needs m == n");
  return absl::OkStatus();
}

// ---- hash: S[h(i) mod m], the hashing trick ------------------------------------------------
constexpr TensorLayout kHashTensors[] = {{"shared", kParam, Extent::kM, true, 0.0f}};

absl::Status SizeHash(double budget, bool, TableSpec* spec) {
  spec->set_m(std::llround(budget / spec->d()));
  return absl::OkStatus();
}

// ---- memcom: S[h(i) mod m] * w[i] (Pansare et al., MLSys 2022) -----------------------------
constexpr TensorLayout kMemcomTensors[] = {{"shared", kParam, Extent::kM, true, 0.0f},
                                           {"weight", kParam, Extent::kN, false, 1.0f}};

absl::Status SizeMemcom(double budget, bool clamp, TableSpec* spec) {
  double m = (budget - static_cast<double>(spec->n())) / spec->d();
  if (m < 0.5 && clamp) m = 1;
  if (m < 0.5) {
    return absl::InvalidArgumentError(absl::StrCat(
        "memcom cannot reach ratio ", static_cast<double>(spec->n()) * spec->d() / budget,
        " with d=", spec->d(), ": its per-entity weights alone cap the ratio below d"));
  }
  spec->set_m(std::llround(m));
  return absl::OkStatus();
}

// ---- memcom2: S[h(i) mod m] * w[i] + S2[h2(i) mod m] * w2[i] ---------------------------------
constexpr TensorLayout kMemcom2Tensors[] = {{"shared", kParam, Extent::kM, true, 0.0f},
                                            {"weight", kParam, Extent::kN, false, 1.0f},
                                            {"shared2", kParam, Extent::kM, true, 0.0f},
                                            {"weight2", kParam, Extent::kN, false, 1.0f}};

absl::Status SizeMemcom2(double budget, bool clamp, TableSpec* spec) {
  // 2 m d + 2 n parameters.
  double m = (budget - 2.0 * static_cast<double>(spec->n())) / (2.0 * spec->d());
  if (m < 0.5 && clamp) m = 1;
  if (m < 0.5) {
    return absl::InvalidArgumentError(absl::StrCat(
        "memcom2 cannot reach ratio ", static_cast<double>(spec->n()) * spec->d() / budget,
        " with d=", spec->d(), ": its two per-entity weights alone cap the ratio below d/2"));
  }
  spec->set_m(std::llround(m));
  return absl::OkStatus();
}

// ---- memcom_freq: D[p] * w[i] for the K most frequent entities, else as memcom -------------
constexpr TensorLayout kMemcomFreqTensors[] = {
    {"shared", kParam, Extent::kM, true, 0.0f},
    {"weight", kParam, Extent::kN, false, 1.0f},
    {"dedicated", kParam, Extent::kDedicated, true, 0.0f},
    {"dedicated_ids", TensorRole::kEntitySubset, Extent::kDedicated, false, 0.0f}};

absl::Status SizeMemcomFreq(double budget, bool clamp, TableSpec* spec) {
  // Half the row budget goes to dedicated rows for the most frequent entities; each dedicated
  // id costs 8 bytes, counted as 2 floats.
  const double d = spec->d();
  const double rows_budget = budget - static_cast<double>(spec->n());
  if (rows_budget < d && clamp) {
    spec->set_dedicated(0);
    spec->set_m(1);
    return absl::OkStatus();
  }
  if (rows_budget < d) {
    return absl::InvalidArgumentError(absl::StrCat(
        "memcom_freq cannot reach ratio ", spec->n() * d / budget, " with d=", spec->d(),
        ": its per-entity weights alone cap the ratio below d"));
  }
  const uint64_t dedicated =
      std::min<uint64_t>(spec->n(), static_cast<uint64_t>(0.5 * rows_budget / (d + 2.0)));
  spec->set_dedicated(dedicated);
  spec->set_m(std::llround((rows_budget - static_cast<double>(dedicated) * (d + 2.0)) / d));
  return absl::OkStatus();
}

absl::Status CheckMemcomFreq(const TableSpec& spec) {
  if (spec.dedicated() > spec.n()) return absl::FailedPreconditionError("dedicated > n");
  return absl::OkStatus();
}

// ---- qr: Q[i / m] * R[i mod m], the quotient-remainder trick --------------------------------
constexpr TensorLayout kQrTensors[] = {{"remainder", kParam, Extent::kM, true, 0.0f},
                                       {"quotient", kParam, Extent::kQuotientRows, true, 1.0f}};

absl::Status SizeQr(double budget, bool clamp, TableSpec* spec) {
  // rows = ceil(n/m) + m, smallest at m = sqrt(n); take the larger root of m + n/m = rows.
  const double n = static_cast<double>(spec->n());
  const double rows = budget / spec->d();
  const double disc = rows * rows - 4.0 * n;
  if (disc < 0 && !clamp) {
    return absl::InvalidArgumentError(absl::StrCat("qr cannot reach ratio ", n * spec->d() / budget,
                                                   " for n=", spec->n(), ": its limit is about ",
                                                   n / (2 * std::sqrt(n))));
  }
  spec->set_m(std::llround(disc < 0 ? std::sqrt(n) : (rows + std::sqrt(disc)) / 2));
  return absl::OkStatus();
}

constexpr TableLayout kLayouts[] = {
    {snapshot::FULL, "full", kFullTensors, SizeFull, CheckFull},
    {snapshot::HASH, "hash", kHashTensors, SizeHash, nullptr},
    {snapshot::QR, "qr", kQrTensors, SizeQr, nullptr},
    {snapshot::MEMCOM, "memcom", kMemcomTensors, SizeMemcom, nullptr},
    {snapshot::MEMCOM_FREQ, "memcom_freq", kMemcomFreqTensors, SizeMemcomFreq, CheckMemcomFreq},
    {snapshot::MEMCOM2, "memcom2", kMemcom2Tensors, SizeMemcom2, nullptr},
};

}  // namespace

absl::Span<const TableLayout> AllTableLayouts() { return kLayouts; }

const TableLayout* FindTableLayout(TableKind kind) {
  for (const TableLayout& layout : kLayouts) {
    if (layout.kind == kind) return &layout;
  }
  return nullptr;
}

std::string TableKindNames() {
  std::vector<std::string> names;
  for (const TableLayout& layout : kLayouts) names.push_back(layout.name);
  const std::string last = names.back();
  names.pop_back();
  return absl::StrCat(absl::StrJoin(names, ", "), " or ", last);
}

absl::StatusOr<TableKind> ParseTableKind(absl::string_view name) {
  for (const TableLayout& layout : kLayouts) {
    if (name == layout.name) return layout.kind;
  }
  return absl::InvalidArgumentError(
      absl::StrCat("unknown table kind '", name, "' (expected ", TableKindNames(), ")"));
}

std::string TableKindName(TableKind kind) {
  const TableLayout* layout = FindTableLayout(kind);
  return layout != nullptr ? layout->name : absl::StrCat("kind", static_cast<int>(kind));
}

bool UsesSharedRows(const TableLayout& layout) {
  for (const TensorLayout& tensor : layout.tensors) {
    if (tensor.rows == Extent::kM || tensor.rows == Extent::kQuotientRows) return true;
  }
  return false;
}

uint64_t ExtentOf(Extent extent, const TableSpec& spec) {
  switch (extent) {
    case Extent::kN:
      return spec.n();
    case Extent::kM:
      return spec.m();
    case Extent::kQuotientRows:
      // ceil(n / m) without n + m - 1, which wraps for n near 2^64 (a hostile manifest).
      return spec.m() == 0 ? 0 : spec.n() / spec.m() + (spec.n() % spec.m() != 0 ? 1 : 0);
    case Extent::kDedicated:
      return spec.dedicated();
  }
  return 0;
}

std::vector<uint64_t> TensorShape(const TensorLayout& tensor, const TableSpec& spec) {
  if (tensor.per_dimension) return {ExtentOf(tensor.rows, spec), spec.d()};
  return {ExtentOf(tensor.rows, spec)};
}

DType TensorDType(const TensorLayout& tensor) {
  return tensor.role == TensorRole::kParameter ? snapshot::FLOAT32 : snapshot::UINT64;
}

std::string TensorNameOf(const TensorLayout& tensor, const TableSpec& spec) {
  return TableTensorName(spec.feature(), tensor.part);
}

bool IsRowTensor(const TensorLayout& tensor) {
  return tensor.role == TensorRole::kParameter && tensor.per_dimension;
}

bool HasInt8Rows(const TableSpec& spec) { return spec.row_dtype() == snapshot::INT8; }
bool HasPqRows(const TableSpec& spec) { return spec.row_dtype() == snapshot::UINT8; }
bool HasHeadTailRows(const TableSpec& spec) { return HasPqRows(spec) && spec.tail_pq_bits() != 0; }

DType StoredDType(const TensorLayout& tensor, const TableSpec& spec) {
  if (!IsRowTensor(tensor)) return TensorDType(tensor);
  if (HasInt8Rows(spec)) return snapshot::INT8;
  if (HasPqRows(spec)) return snapshot::UINT8;
  return snapshot::FLOAT32;
}

std::vector<uint64_t> StoredShape(const TensorLayout& tensor, const TableSpec& spec) {
  if (!IsRowTensor(tensor) || !HasPqRows(spec)) return TensorShape(tensor, spec);
  const uint64_t rows = HasHeadTailRows(spec) ? spec.head_rows() : ExtentOf(tensor.rows, spec);
  return {rows, uint64_t{spec.pq_subvectors()} * spec.pq_bits() / 8};
}

std::string ScaleTensorNameOf(const TensorLayout& tensor, const TableSpec& spec) {
  return absl::StrCat(TensorNameOf(tensor, spec), "_scale");
}

std::string CodebookTensorNameOf(const TensorLayout& tensor, const TableSpec& spec) {
  return absl::StrCat(TensorNameOf(tensor, spec), "_codebook");
}

std::vector<uint64_t> CodebookShape(const TableSpec& spec) {
  const uint64_t subvectors = spec.pq_subvectors();
  if (subvectors == 0 || spec.pq_bits() > 8) return {0, 0};
  return {subvectors << spec.pq_bits(), spec.d() / subvectors};
}

std::string TailTensorNameOf(const TensorLayout& tensor, const TableSpec& spec) {
  return absl::StrCat(TensorNameOf(tensor, spec), "_tail");
}

std::vector<uint64_t> TailShape(const TableSpec& spec) {
  const uint64_t tail = spec.head_rows() <= spec.n() ? spec.n() - spec.head_rows() : 0;
  return {tail, uint64_t{spec.tail_pq_subvectors()} * spec.tail_pq_bits() / 8};
}

std::string TailCodebookTensorNameOf(const TensorLayout& tensor, const TableSpec& spec) {
  return absl::StrCat(TensorNameOf(tensor, spec), "_tail_codebook");
}

std::vector<uint64_t> TailCodebookShape(const TableSpec& spec) {
  const uint64_t subvectors = spec.tail_pq_subvectors();
  if (subvectors == 0 || spec.tail_pq_bits() > 8) return {0, 0};
  return {subvectors << spec.tail_pq_bits(), spec.d() / subvectors};
}

std::string HeadBitsTensorNameOf(const TensorLayout& tensor, const TableSpec& spec) {
  return absl::StrCat(TensorNameOf(tensor, spec), "_head");
}

std::vector<uint64_t> HeadBitsShape(const TableSpec& spec) {
  return {spec.n() / 64 + (spec.n() % 64 != 0 ? 1 : 0)};
}

absl::Status CheckRowsToEncode(const TableSpec& spec, const TensorMap& tensors,
                               absl::string_view aux_suffix, absl::string_view storage) {
  const TableLayout* layout = FindTableLayout(spec.kind());
  if (layout == nullptr) return absl::FailedPreconditionError("unknown table kind");
  for (const TensorLayout& tensor : layout->tensors) {
    if (!IsRowTensor(tensor)) continue;
    const std::string name = TensorNameOf(tensor, spec);
    auto it = tensors.find(name);
    if (it == tensors.end() || it->second.dtype != snapshot::FLOAT32 ||
        it->second.shape != TensorShape(tensor, spec)) {
      return absl::FailedPreconditionError(
          absl::StrCat("no float32 tensor ", name, " of the table's shape to encode as ", storage));
    }
    if (tensors.contains(absl::StrCat(name, aux_suffix))) {
      return absl::FailedPreconditionError(
          absl::StrCat("tensor ", name, aux_suffix, " exists already"));
    }
    for (float value : it->second.bytes.as<float>()) {
      if (!std::isfinite(value)) {
        return absl::FailedPreconditionError(
            absl::StrCat("tensor ", name, " holds a non-finite value; not encoded as ", storage));
      }
    }
  }
  return absl::OkStatus();
}

namespace {

// "pq<M>x<bits>" -> M, bits.
bool ParsePqCode(absl::string_view name, uint32_t* subvectors, uint32_t* bits) {
  std::vector<absl::string_view> parts;
  if (absl::ConsumePrefix(&name, "pq")) parts = absl::StrSplit(name, 'x');
  return parts.size() == 2 && absl::SimpleAtoi(parts[0], subvectors) &&
         absl::SimpleAtoi(parts[1], bits) && *subvectors > 0 && (*bits == 4 || *bits == 8);
}

}  // namespace

absl::StatusOr<RowStorage> ParseRowStorage(absl::string_view name) {
  RowStorage storage;
  if (name == "float32") return storage;
  if (name == "int8") {
    storage.dtype = snapshot::INT8;
    return storage;
  }
  absl::string_view rest = name;
  if (absl::ConsumePrefix(&rest, "head")) {
    const std::vector<absl::string_view> parts = absl::StrSplit(rest, absl::MaxSplits(':', 1));
    std::vector<absl::string_view> codes;
    if (parts.size() == 2) codes = absl::StrSplit(parts[1], absl::MaxSplits('+', 1));
    if (codes.size() == 2 && absl::SimpleAtoi(parts[0], &storage.head_percent) &&
        storage.head_percent >= 1 && storage.head_percent <= 99 &&
        ParsePqCode(codes[0], &storage.pq_subvectors, &storage.pq_bits) &&
        ParsePqCode(codes[1], &storage.tail_pq_subvectors, &storage.tail_pq_bits)) {
      storage.dtype = snapshot::UINT8;
      return storage;
    }
  } else if (ParsePqCode(rest, &storage.pq_subvectors, &storage.pq_bits)) {
    storage.dtype = snapshot::UINT8;
    return storage;
  }
  return absl::InvalidArgumentError(absl::StrCat(
      "unknown row storage '", name,
      "' (expected float32, int8, pq<M>x<bits>: M sub-vectors of 4- or 8-bit codes, e.g. "
      "pq16x8, or head<P>:pq<M>x<bits>+pq<M>x<bits>: the P% most popular items (1-99) get the "
      "first codes, the rest the second, e.g. head20:pq32x8+pq8x8)"));
}

bool IsHeadTail(const RowStorage& storage) {
  return storage.dtype == snapshot::UINT8 && storage.tail_pq_bits != 0;
}

std::string RowStorageName(const RowStorage& storage) {
  if (IsHeadTail(storage)) {
    return absl::StrCat("head", storage.head_percent, ":pq", storage.pq_subvectors, "x",
                        storage.pq_bits, "+pq", storage.tail_pq_subvectors, "x",
                        storage.tail_pq_bits);
  }
  if (storage.dtype == snapshot::UINT8) {
    return absl::StrCat("pq", storage.pq_subvectors, "x", storage.pq_bits);
  }
  return RowDTypeName(storage.dtype);
}

RowStorage RowStorageOf(const TableSpec& spec) {
  RowStorage storage;
  storage.dtype =
      spec.row_dtype() == snapshot::DTYPE_UNSPECIFIED ? snapshot::FLOAT32 : spec.row_dtype();
  if (HasPqRows(spec)) {
    storage.pq_subvectors = spec.pq_subvectors();
    storage.pq_bits = spec.pq_bits();
  }
  if (HasHeadTailRows(spec)) {
    storage.tail_pq_subvectors = spec.tail_pq_subvectors();
    storage.tail_pq_bits = spec.tail_pq_bits();
    storage.head_percent =
        static_cast<uint32_t>(100.0 * static_cast<double>(spec.head_rows()) / spec.n() + 0.5);
  }
  return storage;
}

void SetRowStorage(const RowStorage& storage, TableSpec* spec) {
  spec->set_row_dtype(storage.dtype);
  spec->set_pq_subvectors(storage.dtype == snapshot::UINT8 ? storage.pq_subvectors : 0);
  spec->set_pq_bits(storage.dtype == snapshot::UINT8 ? storage.pq_bits : 0);
  spec->set_tail_pq_subvectors(IsHeadTail(storage) ? storage.tail_pq_subvectors : 0);
  spec->set_tail_pq_bits(IsHeadTail(storage) ? storage.tail_pq_bits : 0);
  if (!IsHeadTail(storage)) spec->set_head_rows(0);
}

absl::StatusOr<DType> ParseRowDType(absl::string_view name) {
  if (name == "float32") return snapshot::FLOAT32;
  if (name == "int8") return snapshot::INT8;
  return absl::InvalidArgumentError(
      absl::StrCat("unknown row dtype '", name, "' (expected float32 or int8)"));
}

std::string RowDTypeName(DType row_dtype) {
  switch (row_dtype) {
    case snapshot::DTYPE_UNSPECIFIED:
    case snapshot::FLOAT32:
      return "float32";
    case snapshot::INT8:
      return "int8";
    case snapshot::UINT8:
      return "pq";
    default:
      return absl::StrCat("invalid (", static_cast<int>(row_dtype), ")");
  }
}

namespace {

// Product-quantisation fields: present exactly for UINT8 rows, and a bounded codebook (the
// retrieval lookup table has pq_subvectors * 2^pq_bits floats, table_dot.cc).
absl::Status CheckPqCode(const char* prefix, uint32_t subvectors, uint32_t bits, uint32_t d) {
  if ((bits != 4 && bits != 8) || subvectors == 0 || d % subvectors != 0 ||
      (bits == 4 && subvectors % 2 != 0) || (uint64_t{subvectors} << bits) > kMaxPqCentroids) {
    return absl::FailedPreconditionError(absl::StrCat(
        "has ", prefix, "pq_subvectors=", subvectors, " ", prefix, "pq_bits=", bits, " for d=", d,
        " (bits 4 or 8; sub-vectors divide d, are even for 4 bits, and at most ", kMaxPqCentroids,
        " centroids in all)"));
  }
  return absl::OkStatus();
}

absl::Status CheckPqFields(const TableSpec& spec) {
  const bool tail_fields =
      spec.tail_pq_subvectors() != 0 || spec.tail_pq_bits() != 0 || spec.head_rows() != 0;
  if (!HasPqRows(spec)) {
    if (spec.pq_subvectors() != 0 || spec.pq_bits() != 0 || tail_fields) {
      return absl::FailedPreconditionError("has pq fields but its rows are not pq codes");
    }
    return absl::OkStatus();
  }
  RETURN_IF_ERROR(CheckPqCode("", spec.pq_subvectors(), spec.pq_bits(), spec.d()));
  if (!tail_fields) return absl::OkStatus();
  if (spec.kind() != snapshot::FULL) {
    return absl::FailedPreconditionError("has head/tail pq fields but is not a full table");
  }
  RETURN_IF_ERROR(CheckPqCode("tail_", spec.tail_pq_subvectors(), spec.tail_pq_bits(), spec.d()));
  if (spec.head_rows() > spec.n()) {
    return absl::FailedPreconditionError(
        absl::StrCat("has head_rows=", spec.head_rows(), " above n=", spec.n()));
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status CheckTableSpec(const TableSpec& spec) {
  const std::string where = absl::StrCat("table '", spec.feature(), "'");
  const TableLayout* layout = FindTableLayout(spec.kind());
  if (layout == nullptr) {
    return absl::FailedPreconditionError(
        absl::StrCat(where, " has unknown kind ", static_cast<int>(spec.kind())));
  }
  if (spec.n() == 0 || spec.d() == 0 || spec.m() == 0) {
    return absl::FailedPreconditionError(
        absl::StrCat(where, " has n=", spec.n(), " m=", spec.m(), " d=", spec.d()));
  }
  if (spec.row_dtype() != snapshot::DTYPE_UNSPECIFIED && spec.row_dtype() != snapshot::FLOAT32 &&
      spec.row_dtype() != snapshot::INT8 && spec.row_dtype() != snapshot::UINT8) {
    return absl::FailedPreconditionError(absl::StrCat(where, " has row dtype ",
                                                      static_cast<int>(spec.row_dtype()),
                                                      " (rows are float32, int8 or pq codes)"));
  }
  if (absl::Status pq = CheckPqFields(spec); !pq.ok()) {
    return absl::FailedPreconditionError(absl::StrCat(where, " ", pq.message()));
  }
  if (layout->check_spec != nullptr) {
    absl::Status status = layout->check_spec(spec);
    if (!status.ok()) {
      return absl::FailedPreconditionError(absl::StrCat(where, ": ", status.message()));
    }
  }
  return absl::OkStatus();
}

}  // namespace ranker
