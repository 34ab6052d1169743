// Model::Rank and the embeddings it uses: the hot path. Items are scored in blocks of
// kBlockSize with the scorer's batched GEMMs; excluded ids are dropped before scoring. With
// two stages, only the items retrieval kept (model_retrieve.cc) reach the scorer, in the same
// id order as one stage, so a retrieval that keeps everything ranks exactly as one stage.
#include <algorithm>
#include <cstring>
#include <optional>

#include "model/model.h"

namespace ranker {

void Model::EmbedUser(uint64_t user_id, float* out) const {
  std::optional<uint64_t> index = user().ids.ToIndex(user_id);
  if (index) {
    user().table.Embed(*index, out);
  } else {
    user().table.EmbedUnknown(user_id, out);
  }
}

void Model::EmbedItem(uint64_t item_id, float* out) const {
  std::optional<uint64_t> index = item().ids.ToIndex(item_id);
  if (index) {
    item().table.Embed(*index, out);
  } else {
    item().table.EmbedUnknown(item_id, out);
  }
}

void Model::EmbedHistory(absl::Span<const uint64_t> history, float* out, uint32_t* used,
                         uint32_t* unknown) const {
  std::vector<float> row(item_in().table.dim());
  PoolHistory(history, out, row.data(), used, unknown);
}

void Model::PoolHistory(absl::Span<const uint64_t> history, float* out, float* row, uint32_t* used,
                        uint32_t* unknown) const {
  const Feature& input = item_in();
  const uint32_t d = input.table.dim();
  std::fill_n(out, d, 0.0f);
  *used = 0;
  *unknown = 0;
  // Summed in history order, then divided: the trainer pools the same way.
  for (uint64_t id : history) {
    const std::optional<uint64_t> index = input.ids.ToIndex(id);
    if (!index) {
      ++*unknown;
      continue;
    }
    input.table.Embed(*index, row);
    for (uint32_t k = 0; k < d; ++k) out[k] += row[k];
    ++*used;
  }
  if (*used == 0) return;
  const float scale = 1.0f / static_cast<float>(*used);
  for (uint32_t k = 0; k < d; ++k) out[k] *= scale;
}

void Model::CollectExcluded(const RankQuery& query, RankScratch* scratch) const {
  std::vector<uint64_t>& excluded = scratch->excluded;
  excluded.assign(query.exclude.begin(), query.exclude.end());
  if (history_mode() && !query.include_seen) {
    excluded.insert(excluded.end(), query.history.begin(), query.history.end());
  }
  std::sort(excluded.begin(), excluded.end());
  excluded.erase(std::unique(excluded.begin(), excluded.end()), excluded.end());
}

void Model::ScoreBlock(size_t count, bool by_popularity, RankScratch* scratch) const {
  if (by_popularity) {
    // Unknown candidates have no popularity: they rank after every known item.
    const absl::Span<const float> prior = popularity();
    for (size_t r = 0; r < count; ++r) {
      const uint64_t index = scratch->indices[r];
      scratch->top_k.Push(scratch->ids[r],
                          index == EmbeddingTable::kUnknown ? -1.0f : prior[index]);
    }
    return;
  }
  item().table.Gather(scratch->indices.data(), scratch->ids.data(), count, scratch->items.data());
  scorer_.Score(scratch->items.data(), count, scratch->scores.data(), &scratch->scorer);
  for (size_t r = 0; r < count; ++r) scratch->top_k.Push(scratch->ids[r], scratch->scores[r]);
}

void Model::Rank(uint64_t user_id, absl::Span<const uint64_t> candidates, size_t k,
                 RankScratch* scratch, RankResult* result) const {
  RankQuery query;
  query.user_id = user_id;
  query.candidates = candidates;
  query.k = k;
  Rank(query, scratch, result);
}

void Model::PrepareQueryUser(const RankQuery& query, RankScratch* scratch,
                             RankResult* result) const {
  const uint32_t d = item().table.dim();
  result->unknown_users = 0;
  result->unknown_items = 0;
  result->history_used = 0;
  result->unknown_history = 0;
  result->popularity = false;
  result->retrieval_scored = 0;
  result->ranked = 0;
  result->refused.reset();
  scratch->user.resize(d);
  scratch->items.resize(kBlockSize * d);
  scratch->ids.resize(kBlockSize);
  scratch->indices.resize(kBlockSize);
  scratch->scores.resize(kBlockSize);
  if (history_mode()) {
    absl::Span<const uint64_t> pooled = query.history;
    if (query.max_history > 0 && pooled.size() > query.max_history) {
      pooled.remove_prefix(pooled.size() - query.max_history);
    }
    PoolHistory(pooled, scratch->user.data(), scratch->items.data(), &result->history_used,
                &result->unknown_history);
    result->popularity = result->history_used == 0;
  } else {
    result->unknown_users = user().ids.ToIndex(query.user_id) ? 0 : 1;
    EmbedUser(query.user_id, scratch->user.data());
  }
  if (!result->popularity) scorer_.PrepareUser(scratch->user.data(), &scratch->scorer);
}

bool Model::CollectCandidates(const RankQuery& query, RankScratch* scratch,
                              RankResult* result) const {
  std::vector<uint64_t>& unique = scratch->unique_ids;
  unique.assign(query.candidates.begin(), query.candidates.end());
  std::sort(unique.begin(), unique.end());
  unique.erase(std::unique(unique.begin(), unique.end()), unique.end());
  std::vector<uint64_t>& indices = scratch->candidate_indices;
  indices.resize(unique.size());
  std::vector<uint64_t>& refused = scratch->refused_ids;  // sorted, as `unique` is
  refused.clear();
  for (size_t c = 0; c < unique.size(); ++c) {
    const std::optional<uint64_t> index = item().ids.ToIndex(unique[c]);
    if (!index && query.refuse_unknown) {
      refused.push_back(unique[c]);
      continue;
    }
    indices[c] = index ? *index : EmbeddingTable::kUnknown;
    if (!index && !IsExcluded(*scratch, unique[c])) ++result->unknown_items;
  }
  if (refused.empty()) return true;
  // The caller names the first unknown id it sent: found among the ones just looked up, so no
  // id is looked up twice.
  for (uint64_t id : query.candidates) {
    if (std::binary_search(refused.begin(), refused.end(), id)) {
      result->refused = RankResult::UnknownId{false, id};
      break;
    }
  }
  return false;
}

void Model::Rank(const RankQuery& query, RankScratch* scratch, RankResult* result) const {
  PrepareQueryUser(query, scratch, result);
  result->items.clear();
  if (query.refuse_unknown && result->unknown_users > 0) {
    result->refused = RankResult::UnknownId{true, query.user_id};
    return;
  }
  const bool by_popularity = result->popularity;
  CollectExcluded(query, scratch);
  scratch->top_k.Reset(query.k);

  size_t count = 0;
  const auto flush = [&] {
    if (count == 0) return;
    ScoreBlock(count, by_popularity, scratch);
    if (!by_popularity) result->ranked += static_cast<uint32_t>(count);
    count = 0;
  };
  const auto add = [&](uint64_t id, uint64_t index) {
    scratch->ids[count] = id;
    scratch->indices[count] = index;
    if (++count == kBlockSize) flush();
  };
  // Popularity is already as cheap as retrieval: it never runs two stages.
  const bool retrieve = !by_popularity && query.retrieve_n > 0;
  if (query.candidates.empty()) {
    const uint64_t n = item().table.size();
    if (retrieve && n > query.retrieve_n) {
      RetrieveFromCatalogue(query, scratch, result);
      for (const ScoredId& kept : scratch->retrieved) add(item().ids.ToId(kept.id), kept.id);
    } else {
      for (uint64_t index = 0; index < n; ++index) {
        const uint64_t id = item().ids.ToId(index);
        if (!IsExcluded(*scratch, id)) add(id, index);
      }
    }
  } else {
    if (!CollectCandidates(query, scratch, result)) return;
    const std::vector<uint64_t>& unique = scratch->unique_ids;
    const std::vector<uint64_t>& indices = scratch->candidate_indices;
    if (retrieve && unique.size() > query.retrieve_n) {
      RetrieveFromCandidates(query, scratch, result);
      for (const ScoredId& kept : scratch->retrieved) add(unique[kept.id], indices[kept.id]);
    } else {
      for (size_t c = 0; c < unique.size(); ++c) {
        if (!IsExcluded(*scratch, unique[c])) add(unique[c], indices[c]);
      }
    }
  }
  flush();
  scratch->top_k.TakeSorted(&result->items);
}

}  // namespace ranker
