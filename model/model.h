// An immutable, verified ranking model: one named feature (id map + embedding table of any kind)
// per table in the manifest, and the RankNet scorer over the "user" and "item" features. Built once
// from a snapshot, then shared read-only by every request that pins it (std::shared_ptr<const
// Model>); all methods are thread-safe.
#ifndef RANKER_MODEL_MODEL_H_
#define RANKER_MODEL_MODEL_H_

#include <cstdint>
#include <memory>
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

// Reusable per-thread buffers for Rank, so the hot path does not allocate once warm.
struct RankScratch {
  ScorerScratch scorer;
  std::vector<uint64_t> unique_ids;    // sorted, deduplicated candidates
  std::vector<uint64_t> ids, indices;  // one block: wire ids and dense indices
  AlignedVector<float> user, items, scores;
  TopK top_k;
};

struct RankResult {
  std::vector<ScoredId> items;  // best first, ids are wire ids
  uint32_t unknown_users = 0;   // 0 or 1
  uint32_t unknown_items = 0;
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
  // (names unique; "user" and "item" required, of equal d) and the scorer. Checks that every
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
  const Feature& user() const { return features_[user_]; }
  const Feature& item() const { return features_[item_]; }
  const RankNetScorer& scorer() const { return scorer_; }

  // Ranks `candidates` (wire ids; duplicates ignored) or, when empty, every item, for
  // `user_id`, keeping the best `k` (highest score, then lower id). REQUIRES: k >= 1.
  void Rank(uint64_t user_id, absl::Span<const uint64_t> candidates, size_t k, RankScratch* scratch,
            RankResult* result) const;

  // The embedding of a wire id as Rank uses it (fallback for unknown ids); d floats.
  void EmbedUser(uint64_t user_id, float* out) const;
  void EmbedItem(uint64_t item_id, float* out) const;

  // Bytes of every loaded tensor: tables, id maps and scorer.
  size_t resident_bytes() const;
  size_t table_resident_bytes(const Feature& feature) const;
  // What the same model would take with full fp32 n x d tables.
  size_t uncompressed_bytes() const;
  // Embedding parameters of full tables over those of these tables.
  double compression_ratio() const;

 private:
  Model() = default;
  void ScoreBlock(size_t count, RankScratch* scratch) const;

  Manifest manifest_;
  std::vector<Feature> features_;
  size_t user_ = 0, item_ = 0;  // positions in features_
  RankNetScorer scorer_;
};

}  // namespace ranker

#endif  // RANKER_MODEL_MODEL_H_
