// Every table kind's storage, declared once (table_layout.cc): the tensors it holds (name,
// dtype, shape in terms of the spec's n, m, d and dedicated), the value its parameters start
// near, and its sizing rule for a target compression ratio. Table creation and checks, the
// demo, the importer, the trainer's export, sizing and GetModelInfo iterate these declarations.
// A kind's forward is in table_forward.cc and its gradient in trainer/table_gradients.cc; for
// any kind in snapshot.proto without them, tests/model/table_layout_test.cc (layout, forward)
// and tests/trainer/parity_test.cc (gradient) fail.
#ifndef RANKER_MODEL_TABLE_LAYOUT_H_
#define RANKER_MODEL_TABLE_LAYOUT_H_

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/types/span.h"
#include "model/snapshot.h"

namespace ranker {

// Most tensors one table holds (memcom_freq has four).
inline constexpr size_t kMaxTableTensors = 4;
// Most centroids a pq table's codebook holds (pq_subvectors * 2^pq_bits): bounds the lookup
// table a full pq table's retrieval builds per request (table_dot.cc).
inline constexpr uint64_t kMaxPqCentroids = 16384;

// A tensor's row count, as a function of the table's spec.
enum class Extent { kN, kM, kQuotientRows /* ceil(n / m) */, kDedicated };

enum class TensorRole {
  kParameter,     // trained floats
  kEntitySubset,  // uint64: sorted, distinct dense indices below n, fixed before training
};

struct TensorLayout {
  const char* part;  // the tensor is named "<feature>/<part>"
  TensorRole role;
  Extent rows;
  bool per_dimension;  // shape [rows, d]; otherwise [rows]
  float anchor;        // parameters start near it and weight decay pulls them towards it
};

struct TableLayout {
  TableKind kind;
  const char* name;                        // "memcom": flags, descriptions, GetModelInfo
  absl::Span<const TensorLayout> tensors;  // parameters first, in the trainer's order
  // Sets spec->m (and spec->dedicated) so that a table of spec->n entities of spec->d holds
  // about `budget` parameters. INVALID_ARGUMENT if the kind cannot get that small, unless
  // `clamp`, which gives its most compressed spec instead.
  absl::Status (*size)(double budget, bool clamp, TableSpec* spec);
  // Constraints on the spec beyond 1 <= m and 1 <= n, d (nullptr: none).
  absl::Status (*check_spec)(const TableSpec& spec);
};

// Every declared kind, in TableKind order.
absl::Span<const TableLayout> AllTableLayouts();
// nullptr if `kind` has no layout.
const TableLayout* FindTableLayout(TableKind kind);

// "full", "hash", "qr", "memcom", "memcom_freq", "memcom2" <-> TableKind; errors list the
// valid names.
absl::StatusOr<TableKind> ParseTableKind(absl::string_view name);
std::string TableKindName(TableKind kind);
// "full, hash, qr, memcom, memcom_freq or memcom2", for help texts.
std::string TableKindNames();

// True if the kind's size depends on m (all but full): m and a compression ratio mean something.
bool UsesSharedRows(const TableLayout& layout);

uint64_t ExtentOf(Extent extent, const TableSpec& spec);
std::vector<uint64_t> TensorShape(const TensorLayout& tensor, const TableSpec& spec);
// The tensor's values as trained: FLOAT32 parameters, UINT64 entity subsets.
DType TensorDType(const TensorLayout& tensor);
// "<feature>/<part>".
std::string TensorNameOf(const TensorLayout& tensor, const TableSpec& spec);

// Row storage (TableSpec.row_dtype): d-wide parameter tensors ("rows") are float32, int8
// levels with a float scale per row in a tensor of their own (model/int8_rows.h), or product-
// quantisation codes with a codebook in a tensor of their own (model/pq_rows.h). Nothing else
// changes dtype.
bool IsRowTensor(const TensorLayout& tensor);
bool HasInt8Rows(const TableSpec& spec);
bool HasPqRows(const TableSpec& spec);
// Pq rows split into a head and a tail of their own code widths (tail_pq_bits set; FULL tables
// only; model/head_tail_rows.h).
bool HasHeadTailRows(const TableSpec& spec);
// The tensor's dtype as stored: INT8 / UINT8 for the rows of an int8 / pq table, else TensorDType.
DType StoredDType(const TensorLayout& tensor, const TableSpec& spec);
// The tensor's shape as stored: [rows, pq_subvectors * pq_bits / 8] for the codes of a pq
// table (rows = head_rows for a head/tail table's head codes), else TensorShape.
std::vector<uint64_t> StoredShape(const TensorLayout& tensor, const TableSpec& spec);
// "<feature>/<part>_scale": the per-row scales of an int8 row tensor, FLOAT32 [rows].
std::string ScaleTensorNameOf(const TensorLayout& tensor, const TableSpec& spec);
// "<feature>/<part>_codebook": the centroids of a pq row tensor, FLOAT32
// [pq_subvectors * 2^pq_bits, d / pq_subvectors].
std::string CodebookTensorNameOf(const TensorLayout& tensor, const TableSpec& spec);
std::vector<uint64_t> CodebookShape(const TableSpec& spec);
// Head/tail tables (snapshot.proto): "<row tensor>_tail" codes, UINT8 [n - head_rows,
// tail_pq_subvectors * tail_pq_bits / 8]; "<row tensor>_tail_codebook", FLOAT32
// [tail_pq_subvectors * 2^tail_pq_bits, d / tail_pq_subvectors]; "<row tensor>_head", the head
// bits, UINT64 [ceil(n / 64)].
std::string TailTensorNameOf(const TensorLayout& tensor, const TableSpec& spec);
std::vector<uint64_t> TailShape(const TableSpec& spec);
std::string TailCodebookTensorNameOf(const TensorLayout& tensor, const TableSpec& spec);
std::vector<uint64_t> TailCodebookShape(const TableSpec& spec);
std::string HeadBitsTensorNameOf(const TensorLayout& tensor, const TableSpec& spec);
std::vector<uint64_t> HeadBitsShape(const TableSpec& spec);
// What every row storage's encoder checks before it replaces a table's float rows (so that a
// refused table is left as it was): each row tensor is FLOAT32 of the layout's shape and finite
// (NaN would encode to an arbitrary code and pass as finite), and no "<row tensor><aux_suffix>"
// tensor exists yet. FAILED_PRECONDITION naming the tensor; `storage` ("int8") for messages.
absl::Status CheckRowsToEncode(const TableSpec& spec, const TensorMap& tensors,
                               absl::string_view aux_suffix, absl::string_view storage);

// How a table's rows are stored, as people name it: "float32", "int8", "pq<M>x<bits>" (M
// sub-vectors, codes of 4 or 8 bits: "pq16x8"), or "head<P>:pq<M>x<bits>+pq<M'>x<bits'>"
// (full tables: the P% most popular entities get the first codes, the rest the second).
struct RowStorage {
  DType dtype = snapshot::FLOAT32;
  uint32_t pq_subvectors = 0, pq_bits = 0;  // UINT8 only
  // Head/tail pq only (head_percent in 1..99): the tail's codes; pq_* are the head's.
  uint32_t head_percent = 0, tail_pq_subvectors = 0, tail_pq_bits = 0;
};
absl::StatusOr<RowStorage> ParseRowStorage(absl::string_view name);
std::string RowStorageName(const RowStorage& storage);
bool IsHeadTail(const RowStorage& storage);
RowStorage RowStorageOf(const TableSpec& spec);
// Sets spec's row_dtype and pq fields (not head_rows, which the head/tail encoder sets).
void SetRowStorage(const RowStorage& storage, TableSpec* spec);
// "float32" / "int8" <-> FLOAT32 / INT8 (an unset row_dtype is float32).
absl::StatusOr<DType> ParseRowDType(absl::string_view name);
std::string RowDTypeName(DType row_dtype);

// FAILED_PRECONDITION unless the spec's kind is declared and its n, m, d, dedicated are valid.
absl::Status CheckTableSpec(const TableSpec& spec);

}  // namespace ranker

#endif  // RANKER_MODEL_TABLE_LAYOUT_H_
