#include "trainer/evaluator.h"

#include <algorithm>
#include <numeric>
#include <thread>
#include <utility>

namespace ranker {
namespace {

// Sorted union of the items to exclude for `part`.
std::vector<uint32_t> Known(const UserSplit& s, HeldOut part) {
  std::vector<uint32_t> known = s.train;
  if (part == HeldOut::kTest) {
    known.insert(known.end(), s.validation.begin(), s.validation.end());
    std::sort(known.begin(), known.end());
  }
  return known;
}

const std::vector<uint32_t>& Relevant(const UserSplit& s, HeldOut part) {
  return part == HeldOut::kTest ? s.test : s.validation;
}

// `ranked`: per user, or empty when not kept.
Evaluation Collect(const std::vector<double>& ndcg, const std::vector<double>& recall,
                   const std::vector<char>& counted,
                   std::vector<std::vector<uint32_t>> ranked = {}) {
  Evaluation e;
  for (size_t u = 0; u < counted.size(); ++u) {
    if (!counted[u]) continue;
    e.per_user_ndcg.push_back(ndcg[u]);
    e.per_user_recall.push_back(recall[u]);
    if (!ranked.empty()) e.per_user_ranked.push_back(std::move(ranked[u]));
  }
  e.ndcg = Summarize(e.per_user_ndcg);
  e.recall = Summarize(e.per_user_recall);
  return e;
}

}  // namespace

Evaluation EvaluateModel(const Model& model, const Dataset& dataset, const Split& split,
                         HeldOut part, int threads, size_t max_history, size_t retrieve_n,
                         size_t keep) {
  const size_t users = split.users.size();
  // A scorer that orders items by u . e_i alone ranks exactly what its own retrieval keeps: two
  // stages with N = k read the table once instead of building every item's embedding.
  if (retrieve_n == 0 && model.scorer().RanksByDot()) retrieve_n = std::max(keep, kCutoff);
  std::vector<double> ndcg(users, 0), recall(users, 0);
  std::vector<char> counted(users, 0);
  std::vector<std::vector<uint32_t>> kept(keep > 0 ? users : 0);
  const auto work = [&](size_t first, size_t step) {
    RankScratch scratch;
    RankResult result;
    std::vector<uint32_t> ranked;
    std::vector<uint64_t> history, exclude;
    for (size_t u = first; u < users; u += step) {
      const UserSplit& s = split.users[u];
      const std::vector<uint32_t>& relevant = Relevant(s, part);
      if (relevant.empty()) continue;
      RankQuery query;
      // Excluded in the query rather than filtered afterwards, so that two stages retrieve
      // from the items that can be recommended (one stage ranks the same either way).
      exclude.clear();
      for (uint32_t index : Known(s, part)) exclude.push_back(dataset.item_ids[index]);
      query.exclude = exclude;
      if (model.history_mode()) {
        // The user is what they saw most recently (already excluded: the known items).
        history.clear();
        for (uint32_t index : RecentHistory(s, part == HeldOut::kTest, max_history)) {
          history.push_back(dataset.item_ids[index]);
        }
        query.history = history;
      } else {
        query.user_id = dataset.user_ids[u];
      }
      query.k = std::max(keep, kCutoff);
      query.retrieve_n = retrieve_n;
      model.Rank(query, &scratch, &result);
      ranked.clear();
      for (const ScoredId& item : result.items) {
        ranked.push_back(static_cast<uint32_t>(*model.item().ids.ToIndex(item.id)));
      }
      ndcg[u] = NdcgAtK(ranked, relevant, kCutoff);
      recall[u] = RecallAtK(ranked, relevant, kCutoff);
      counted[u] = 1;
      if (keep > 0) kept[u] = ranked;
    }
  };
  std::vector<std::thread> pool;
  for (int t = 1; t < threads; ++t) pool.emplace_back(work, t, threads);
  work(0, std::max(1, threads));
  for (auto& thread : pool) thread.join();
  return Collect(ndcg, recall, counted, std::move(kept));
}

Evaluation EvaluatePopularity(const Split& split, HeldOut part) {
  const std::vector<uint32_t>& counts = split.train_item_counts;
  std::vector<uint32_t> order(counts.size());
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(),
                   [&](uint32_t a, uint32_t b) { return counts[a] > counts[b]; });
  const size_t users = split.users.size();
  std::vector<double> ndcg(users, 0), recall(users, 0);
  std::vector<char> counted(users, 0);
  std::vector<uint32_t> ranked;
  for (size_t u = 0; u < users; ++u) {
    const UserSplit& s = split.users[u];
    const std::vector<uint32_t>& relevant = Relevant(s, part);
    if (relevant.empty()) continue;
    const std::vector<uint32_t> known = Known(s, part);
    ranked.clear();
    for (uint32_t item : order) {
      if (std::binary_search(known.begin(), known.end(), item)) continue;
      ranked.push_back(item);
      if (ranked.size() == kCutoff) break;
    }
    ndcg[u] = NdcgAtK(ranked, relevant, kCutoff);
    recall[u] = RecallAtK(ranked, relevant, kCutoff);
    counted[u] = 1;
  }
  return Collect(ndcg, recall, counted);
}

}  // namespace ranker
