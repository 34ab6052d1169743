// One categorical feature's embedding table, of any kind its spec names (the kinds, their
// tensors and their maths: table_layout.h and table_forward.h; their retrieval scores without
// building embeddings: table_dot.h). Ids outside [0, n) are unknown and embed by the kind's
// fallback. Immutable after Create; thread-safe to read.
#ifndef RANKER_MODEL_EMBEDDING_TABLE_H_
#define RANKER_MODEL_EMBEDDING_TABLE_H_

#include <array>
#include <cstddef>
#include <cstdint>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "model/snapshot.h"
#include "model/table_dot.h"
#include "model/table_forward.h"
#include "model/table_layout.h"

namespace ranker {

class EmbeddingTable {
 public:
  // An entry of Gather's `indices` whose embedding comes from its raw id (an unknown id).
  static constexpr uint64_t kUnknown = kUnknownIndex;

  // Takes the table's tensors out of `tensors` (with int8 rows, their scales too; with pq rows,
  // their codebooks; with head/tail rows, the tail's and the head bits), checking the spec, every
  // tensor's dtype and shape, that entity subsets are increasing indices below n and scales in
  // range. (Model::Create checks that every float tensor, codebooks included, is finite.)
  // FAILED_PRECONDITION naming the table and tensor on any mismatch.
  static absl::StatusOr<EmbeddingTable> Create(const TableSpec& spec, TensorMap& tensors);

  // Movable (the view is rebound to the moved tensors; the moved-from table is empty and must
  // not be used), not copyable.
  EmbeddingTable(EmbeddingTable&& other) noexcept { *this = std::move(other); }
  EmbeddingTable& operator=(EmbeddingTable&& other) noexcept;

  const TableSpec& spec() const { return spec_; }
  uint32_t dim() const { return spec_.d(); }
  uint64_t size() const { return spec_.n(); }
  // Bytes of the table's tensors as loaded (int8 rows: levels and scales; pq rows: codes and
  // codebooks; head/tail rows: both groups' and the head bits), and of what is derived from
  // them at load (the retrieval row index, the head/tail rank directory).
  size_t resident_bytes() const;
  // Trainable parameters (floats).
  uint64_t parameters() const;

  // REQUIRES: index < size(). Writes d floats.
  void Embed(uint64_t index, float* out) const;
  // Embedding of an id outside the table (see table_forward.h).
  void EmbedUnknown(uint64_t raw_id, float* out) const;
  // Row r of `out` (count x d, row-major) = Embed(indices[r]), or EmbedUnknown(raw_ids[r]) where
  // indices[r] == kUnknown.
  void Gather(const uint64_t* indices, const uint64_t* raw_ids, size_t count, float* out) const {
    forward_->gather(view_, indices, raw_ids, count, out);
  }

  // Builds what retrieval reads beyond the tensors (the row index of table_dot.h, for mixed
  // hashes and memcom_freq; counted in resident_bytes). Call once, before any Dot* call;
  // FAILED_PRECONDITION if the rows do not fit the index.
  absl::Status EnableRetrieval();
  bool retrieval_enabled() const { return retrieval_enabled_; }

  // Retrieval: u . e_i without building e_i (table_dot.h). REQUIRES: retrieval_enabled().
  // PrepareDot once per user, then any number of DotRange / DotIndices calls; query->user must
  // stay valid until the last of them.
  void PrepareDot(DotQuery* query) const { dot_->prepare(view_, query); }
  // Rows PrepareDot reads (table_dot.h): worth paying only for more items than this.
  uint64_t DotPrepareRows() const { return dot_->prepare_rows(spec_); }
  // scores[r] = u . Embed(first + r). REQUIRES: first + count <= size().
  void DotRange(const DotQuery& query, uint64_t first, size_t count, float* scores) const {
    dot_->score_range(view_, query, first, count, scores);
  }
  // scores[r] = u . (row r of Gather(indices, raw_ids)).
  void DotIndices(const DotQuery& query, const uint64_t* indices, const uint64_t* raw_ids,
                  size_t count, float* scores) const {
    dot_->score_indices(view_, query, indices, raw_ids, count, scores);
  }
  // After PrepareDot: fills `items` with increasing indices, a superset of the `keep` best
  // items by DotRange's scores (ties included) found without scoring every item exactly, and
  // returns true; false where the table's storage or the query has no such shortcut
  // (TableDot::top_candidates).
  bool DotTopCandidates(DotQuery* query, size_t keep, std::vector<uint64_t>* items) const {
    return dot_->top_candidates != nullptr && dot_->top_candidates(view_, query, keep, items);
  }

 private:
  EmbeddingTable() = default;
  void Bind();  // points view_ at spec_ and tensors_
  // Takes a head/tail table's tail codes and codebook and head bits, and builds the rank
  // directory.
  absl::Status TakeHeadTail(const TensorLayout& tensor, TensorMap& tensors);

  struct HeadTail {  // empty buffers unless the rows are head/tail pq codes
    AlignedBuffer tail_codes, tail_codebook, head_bits, head_rank;
  };

  TableSpec spec_;
  std::array<AlignedBuffer, kMaxTableTensors> tensors_;    // in the layout's order
  std::array<AlignedBuffer, kMaxTableTensors> scales_;     // int8 row tensors' scales, else empty
  std::array<AlignedBuffer, kMaxTableTensors> codebooks_;  // pq row tensors' codebooks, else empty
  HeadTail head_tail_;
  DotRowIndex row_index_;
  bool retrieval_enabled_ = false;
  TableTensors view_;
  const TableForward* forward_ = nullptr;
  const TableDot* dot_ = nullptr;
};

}  // namespace ranker

#endif  // RANKER_MODEL_EMBEDDING_TABLE_H_
