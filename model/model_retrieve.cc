// Retrieval, the first of two stages: every candidate (or the whole catalogue) scored by the
// dot-product term u . e_i in the compressed domain (table_dot.h), a block of kBlockSize at a
// time, keeping the best retrieve_n in a bounded heap. Over the whole catalogue of a table with
// a shortcut (8-bit pq rows: pq_scan.h), only the items whose score can be among the best are
// scored, with the same result. Keys are pushed in increasing order, so
// an item that only ties the worst kept score can never enter: a score must beat it strictly,
// and a lane of scores none of which does is skipped without looking at its items.
#include <algorithm>
#include <limits>
#include <optional>

#include "model/model.h"

namespace ranker {
namespace {

// Pushes (key_of(r), scores[r]) for each r < count that can enter `best` and whose wire id
// id_of(r) is not excluded. Once `best` is full almost every score is below its worst, so
// scores are tested a lane of kLane at a time (one vectorised compare) before any is looked at.
template <typename KeyOf, typename IdOf, typename Excluded>
void KeepBest(KeyOf key_of, const float* scores, size_t count, IdOf id_of, Excluded excluded,
              TopK* best) {
  constexpr size_t kLane = 16;
  for (size_t lane = 0; lane < count; lane += kLane) {
    const size_t end = std::min(lane + kLane, count);
    if (best->full() && end - lane == kLane) {
      const float worst = best->worst_score();
      bool any = false;
      for (size_t r = 0; r < kLane; ++r) any |= scores[lane + r] > worst;
      if (!any) continue;
    }
    for (size_t r = lane; r < end; ++r) {
      // Also drops NaN once full; before that, Push ranks NaN last.
      if (best->full() && !(scores[r] > best->worst_score())) continue;
      if (excluded(id_of(r))) continue;
      best->Push(key_of(r), scores[r]);
    }
  }
}

// The catalogue shortcut pays when the kept items are a small part of it: its candidates are
// scored one at a time, the catalogue's ranges in bulk.
constexpr uint64_t kShortcutMinItemsPerKept = 16;

}  // namespace

bool Model::IsExcluded(const RankScratch& scratch, uint64_t id) {
  const std::vector<uint64_t>& excluded = scratch.excluded;
  return !excluded.empty() && std::binary_search(excluded.begin(), excluded.end(), id);
}

void Model::RetrieveFromCatalogue(const RankQuery& query, RankScratch* scratch,
                                  RankResult* result) const {
  const EmbeddingTable& table = item().table;
  const IdMap& ids = item().ids;
  const uint64_t n = table.size();
  scratch->dot.user = scratch->user.data();
  table.PrepareDot(&scratch->dot);
  scratch->retrieval.Reset(std::min<uint64_t>(query.retrieve_n, n));
  float* scores = scratch->scores.data();
  const auto excluded = [&](uint64_t id) { return IsExcluded(*scratch, id); };
  // Excluded items may hold some of the best scores: keep that many more candidates. (Each
  // term is checked alone first, so the sum cannot wrap.)
  const uint64_t most = n / kShortcutMinItemsPerKept;
  const bool shortcut = query.retrieve_n <= most && scratch->excluded.size() <= most &&
                        query.retrieve_n + scratch->excluded.size() <= most;
  std::vector<uint64_t>& candidates = scratch->candidate_indices;
  if (shortcut && table.DotTopCandidates(&scratch->dot, query.retrieve_n + scratch->excluded.size(),
                                         &candidates)) {
    for (size_t first = 0; first < candidates.size(); first += kBlockSize) {
      const size_t count = std::min<size_t>(kBlockSize, candidates.size() - first);
      const uint64_t* indices = candidates.data() + first;
      table.DotIndices(scratch->dot, indices, indices, count, scores);
      KeepBest([&](size_t r) { return indices[r]; }, scores, count,
               [&](size_t r) { return ids.ToId(indices[r]); }, excluded, &scratch->retrieval);
    }
    result->retrieval_scored = n;
    scratch->retrieval.TakeInIdOrder(&scratch->retrieved);
    return;
  }
  for (uint64_t first = 0; first < n; first += kBlockSize) {
    const size_t count = static_cast<size_t>(std::min<uint64_t>(kBlockSize, n - first));
    table.DotRange(scratch->dot, first, count, scores);
    KeepBest([&](size_t r) { return first + r; }, scores, count,
             [&](size_t r) { return ids.ToId(first + r); }, excluded, &scratch->retrieval);
  }
  result->retrieval_scored = n;
  scratch->retrieval.TakeInIdOrder(&scratch->retrieved);
}

void Model::RetrieveFromCandidates(const RankQuery& query, RankScratch* scratch,
                                   RankResult* result) const {
  const EmbeddingTable& table = item().table;
  const std::vector<uint64_t>& unique = scratch->unique_ids;
  const std::vector<uint64_t>& indices = scratch->candidate_indices;  // CollectCandidates
  // A few thousand candidates of a table with many shared rows: building their embeddings
  // costs less than projecting the user through every row (t = S u).
  const bool project = unique.size() >= table.DotPrepareRows();
  if (project) {
    scratch->dot.user = scratch->user.data();
    table.PrepareDot(&scratch->dot);
  }
  const uint32_t d = table.dim();
  const float* user = scratch->user.data();
  scratch->retrieval.Reset(std::min(query.retrieve_n, unique.size()));
  float* scores = scratch->scores.data();
  for (size_t first = 0; first < unique.size(); first += kBlockSize) {
    const size_t count = std::min<size_t>(kBlockSize, unique.size() - first);
    if (project) {
      table.DotIndices(scratch->dot, indices.data() + first, unique.data() + first, count, scores);
    } else {
      float* items = scratch->items.data();
      table.Gather(indices.data() + first, unique.data() + first, count, items);
      for (size_t r = 0; r < count; ++r) {
        float sum = 0;
        for (uint32_t k = 0; k < d; ++k) sum += items[r * d + k] * user[k];
        scores[r] = sum;
      }
    }
    KeepBest([&](size_t r) { return first + r; }, scores, count,
             [&](size_t r) { return unique[first + r]; },
             [&](uint64_t id) { return IsExcluded(*scratch, id); }, &scratch->retrieval);
  }
  result->retrieval_scored = unique.size();
  scratch->retrieval.TakeInIdOrder(&scratch->retrieved);
}

void Model::Retrieve(const RankQuery& query, RankScratch* scratch, RankResult* result) const {
  PrepareQueryUser(query, scratch, result);
  result->items.clear();
  if (result->popularity) return;
  CollectExcluded(query, scratch);
  RankQuery kept = query;
  kept.retrieve_n = std::max<size_t>(query.retrieve_n, 1);
  if (query.candidates.empty()) {
    RetrieveFromCatalogue(kept, scratch, result);
    for (const ScoredId& entry : scratch->retrieved) {
      result->items.push_back({item().ids.ToId(entry.id), entry.score});
    }
  } else {
    if (!CollectCandidates(query, scratch, result)) return;
    RetrieveFromCandidates(kept, scratch, result);
    for (const ScoredId& entry : scratch->retrieved) {
      result->items.push_back({scratch->unique_ids[entry.id], entry.score});
    }
  }
  std::sort(result->items.begin(), result->items.end(), RanksBefore);
}

}  // namespace ranker
