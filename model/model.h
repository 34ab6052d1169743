// An immutable, verified ranking model: one named feature (id map + embedding table of any kind)
// per table in the manifest, and the RankNet scorer. Its user mode says where the user vector
// comes from: a row of the "user" table (id), or the mean of "item_in" rows over the items in
// the user's history (history); items are scored with their "item" rows either way. Built once
// from a snapshot, then shared read-only by every request that pins it (std::shared_ptr<const
// Model>); all methods are thread-safe.
#ifndef RANKER_MODEL_MODEL_H_
#define RANKER_MODEL_MODEL_H_

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/types/span.h"
#include "model/embedding_table.h"
#include "model/id_map.h"
#include "model/ranknet_scorer.h"
#include "model/snapshot.h"
#include "model/top_k.h"

namespace ranker {

// One ranking request, in wire ids. Borrowed spans must outlive the Rank call.
struct RankQuery {
  uint64_t user_id = 0;                   // id mode: the user's row
  absl::Span<const uint64_t> history;     // history mode: recent items, oldest first
  absl::Span<const uint64_t> candidates;  // empty: the whole catalogue; duplicates ignored
  absl::Span<const uint64_t> exclude;     // never returned
  bool include_seen = false;              // history mode: history items may be returned
  size_t max_history = 0;  // history mode: pool only the newest this many (0 = all); the
                           // older ones are still excluded
  size_t k = 10;           // REQUIRES: k >= 1
  // Two stages when the candidates (the whole catalogue when none are given) number more than
  // this: retrieval keeps the best retrieve_n by the dot-product term u . e_i alone, computed in
  // the compressed domain (table_dot.h), and the scorer ranks only those. 0: one stage, the
  // scorer over every candidate.
  size_t retrieve_n = 0;
  // Refuse rather than score unknown ids: an unknown user (id mode) or candidate (excluded or
  // not) stops Rank before any scoring and is reported in RankResult::refused. The server's
  // --unknown_ids=reject, done here so each candidate is looked up once.
  bool refuse_unknown = false;
};

// Reusable per-thread buffers for Rank, so the hot path does not allocate once warm.
struct RankScratch {
  ScorerScratch scorer;
  std::vector<uint64_t> unique_ids;    // sorted, deduplicated candidates
  std::vector<uint64_t> excluded;      // sorted ids never returned
  std::vector<uint64_t> ids, indices;  // one block: wire ids and dense indices
  AlignedVector<float> user, items, scores;
  TopK top_k;
  // Retrieval (two stages): the user's projections, the kept (key, dot score) pairs, and the
  // candidates' dense indices.
  DotQuery dot;
  TopK retrieval;
  std::vector<ScoredId> retrieved;
  std::vector<uint64_t> candidate_indices;
  std::vector<uint64_t> refused_ids;  // query.refuse_unknown: the unknown candidates, sorted
};

struct RankResult {
  std::vector<ScoredId> items;    // best first, ids are wire ids
  uint32_t unknown_users = 0;     // id mode: 0 or 1
  uint32_t unknown_items = 0;     // candidates outside the vocabulary (scored by fallback)
  uint32_t history_used = 0;      // history mode: known history items pooled
  uint32_t unknown_history = 0;   // history mode: history ids outside the vocabulary, ignored
  bool popularity = false;        // history mode, no usable history: ranked by popularity
  uint64_t retrieval_scored = 0;  // two stages: items retrieval scored (0: it did not run);
                                  // the bounded scan (pq_scan.h) counts every item it bounded
  uint32_t ranked = 0;            // items the scorer scored (0: ranked by popularity)
  // Set when query.refuse_unknown stopped Rank: the unknown user, or the first unknown
  // candidate in the query's order. Nothing else in the result is meaningful then.
  struct UnknownId {
    bool is_user = false;
    uint64_t id = 0;
  };
  std::optional<UnknownId> refused;
};

struct Feature {
  std::string name;  // "user", "item", ...
  IdMap ids;
  EmbeddingTable table;
};

class Model {
 public:
  // Items scored per batch: bounds scratch memory and keeps activations in cache.
  static constexpr size_t kBlockSize = 1024;

  // Builds a model from `manifest` and its tensors (consumed): a feature per manifest table
  // (names unique; "user" and "item" required in id mode, "item" and the "popularity" tensor
  // in history mode, where "item" is also the input table when there is no "item_in": tied
  // tables; all of one d) and the scorer. Checks that every
  // tensor is present with the right dtype and shape, that no tensor is left over, and that
  // every float is finite. Errors are FAILED_PRECONDITION naming the tensor (LoadModel adds
  // the version).
  static absl::StatusOr<std::unique_ptr<const Model>> Create(Manifest manifest, TensorMap tensors);

  uint64_t version() const { return manifest_.version(); }
  const Manifest& manifest() const { return manifest_; }
  // Every feature, in manifest order.
  const std::vector<Feature>& features() const { return features_; }
  // nullptr if the model has no feature `name`.
  const Feature* FindFeature(absl::string_view name) const;
  snapshot::UserMode user_mode() const { return manifest_.user_mode(); }
  bool history_mode() const { return user_mode() == snapshot::USER_MODE_HISTORY; }
  // REQUIRES: !history_mode().
  const Feature& user() const { return features_[user_]; }
  // REQUIRES: history_mode(). The item feature itself when the tables are tied.
  const Feature& item_in() const { return features_[item_in_]; }
  // The scored items (the output table in history mode).
  const Feature& item() const { return features_[item_]; }
  const RankNetScorer& scorer() const { return scorer_; }
  // History mode: the popularity prior of dense item index i (n floats), else empty.
  absl::Span<const float> popularity() const { return popularity_.as<float>(); }

  // Ranks the query's candidates or, when none, every item, keeping the best k (highest
  // score, then lower id) of those not excluded. In history mode, excluded are the query's
  // exclude ids and, unless include_seen, its history; with no known history item the ranking
  // is by popularity. In id mode the history is ignored (the server refuses it). With
  // query.retrieve_n, the scorer ranks only the best retrieve_n by the dot-product term (the
  // same ranking as one stage when that keeps every candidate not excluded).
  void Rank(const RankQuery& query, RankScratch* scratch, RankResult* result) const;
  // Stage 1 alone: the best max(query.retrieve_n, 1) items by u . e_i among the query's
  // candidates (or the catalogue) not excluded, best first, with their dot-product scores in
  // result->items. The user vector and exclusions are Rank's; with no known history item
  // (history mode) there is no user vector and the result is empty.
  void Retrieve(const RankQuery& query, RankScratch* scratch, RankResult* result) const;
  // Id mode shorthand: no history, no exclusions.
  void Rank(uint64_t user_id, absl::Span<const uint64_t> candidates, size_t k, RankScratch* scratch,
            RankResult* result) const;

  // The embedding of a wire id as Rank uses it (fallback for unknown ids); d floats.
  // EmbedUser REQUIRES: !history_mode().
  void EmbedUser(uint64_t user_id, float* out) const;
  void EmbedItem(uint64_t item_id, float* out) const;
  // The mean of the input rows of the known ids in `history` (d floats; zeros if none); sets
  // `used` and `unknown` to the counts of known and unknown ids. REQUIRES: history_mode().
  void EmbedHistory(absl::Span<const uint64_t> history, float* out, uint32_t* used,
                    uint32_t* unknown) const;

  // Bytes of every loaded tensor: tables, id maps and scorer.
  size_t resident_bytes() const;
  size_t table_resident_bytes(const Feature& feature) const;
  // What the same model would take with full fp32 n x d tables.
  size_t uncompressed_bytes() const;
  // Full fp32 tables' size over these tables' stored size (their parameters for float32 rows;
  // codes, codebooks and scales for int8, pq and head/tail rows).
  double compression_ratio() const;

 private:
  Model() = default;
  void ScoreBlock(size_t count, bool by_popularity, RankScratch* scratch) const;
  // EmbedHistory with a caller's d-float row buffer (Rank passes scratch).
  void PoolHistory(absl::Span<const uint64_t> history, float* out, float* row, uint32_t* used,
                   uint32_t* unknown) const;
  // Resets `result`, fills scratch->user (history pooling or the user row) and, unless ranking
  // by popularity, folds it into the scorer.
  void PrepareQueryUser(const RankQuery& query, RankScratch* scratch, RankResult* result) const;
  // Fills scratch->unique_ids (the query's candidates, sorted and deduplicated) and their dense
  // indices in scratch->candidate_indices (kUnknown outside the vocabulary), counting unknown
  // candidates that are not excluded (REQUIRES: CollectExcluded ran). False if
  // query.refuse_unknown met an unknown candidate
  // (then result->refused names it).
  bool CollectCandidates(const RankQuery& query, RankScratch* scratch, RankResult* result) const;
  // Fills scratch->excluded from the query.
  void CollectExcluded(const RankQuery& query, RankScratch* scratch) const;
  // Retrieval (model_retrieve.cc): the best query.retrieve_n by u . e_i, not excluded, into
  // scratch->retrieved in increasing key order; keys are dense indices of the whole catalogue,
  // or positions in scratch->unique_ids (whose dense indices are scratch->candidate_indices).
  void RetrieveFromCatalogue(const RankQuery& query, RankScratch* scratch,
                             RankResult* result) const;
  void RetrieveFromCandidates(const RankQuery& query, RankScratch* scratch,
                              RankResult* result) const;
  // True if `id` is in scratch.excluded (CollectExcluded).
  static bool IsExcluded(const RankScratch& scratch, uint64_t id);

  Manifest manifest_;
  std::vector<Feature> features_;
  size_t user_ = 0, item_in_ = 0, item_ = 0;  // positions in features_
  AlignedBuffer popularity_;                  // history mode: n of item floats
  RankNetScorer scorer_;
};

}  // namespace ranker

#endif  // RANKER_MODEL_MODEL_H_
