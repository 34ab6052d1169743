#include "trainer/evaluator.h"

#include <algorithm>
#include <numeric>
#include <thread>

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

Evaluation Collect(const std::vector<double>& ndcg, const std::vector<double>& recall,
                   const std::vector<char>& counted) {
  Evaluation e;
  for (size_t u = 0; u < counted.size(); ++u) {
    if (!counted[u]) continue;
    e.per_user_ndcg.push_back(ndcg[u]);
    e.per_user_recall.push_back(recall[u]);
  }
  e.ndcg = Summarize(e.per_user_ndcg);
  e.recall = Summarize(e.per_user_recall);
  return e;
}

}  // namespace

Evaluation EvaluateModel(const Model& model, const Dataset& dataset, const Split& split,
                         HeldOut part, int threads, size_t max_history) {
  const size_t users = split.users.size();
  std::vector<double> ndcg(users, 0), recall(users, 0);
  std::vector<char> counted(users, 0);
  const auto work = [&](size_t first, size_t step) {
    RankScratch scratch;
    RankResult result;
    std::vector<uint32_t> ranked;
    std::vector<uint64_t> history, exclude;
    for (size_t u = first; u < users; u += step) {
      const UserSplit& s = split.users[u];
      const std::vector<uint32_t>& relevant = Relevant(s, part);
      if (relevant.empty()) continue;
      const std::vector<uint32_t> known = Known(s, part);
      if (model.history_mode()) {
        // The user is what they saw most recently; everything they saw is excluded.
        history.clear();
        for (uint32_t index : RecentHistory(s, part == HeldOut::kTest, max_history)) {
          history.push_back(dataset.item_ids[index]);
        }
        exclude.clear();
        for (uint32_t index : known) exclude.push_back(dataset.item_ids[index]);
        RankQuery query;
        query.history = history;
        query.exclude = exclude;
        query.k = kCutoff;
        model.Rank(query, &scratch, &result);
      } else {
        model.Rank(dataset.user_ids[u], {}, kCutoff + known.size(), &scratch, &result);
      }
      ranked.clear();
      for (const ScoredId& item : result.items) {
        const uint32_t index = static_cast<uint32_t>(*model.item().ids.ToIndex(item.id));
        if (std::binary_search(known.begin(), known.end(), index)) continue;
        ranked.push_back(index);
        if (ranked.size() == kCutoff) break;
      }
      ndcg[u] = NdcgAtK(ranked, relevant, kCutoff);
      recall[u] = RecallAtK(ranked, relevant, kCutoff);
      counted[u] = 1;
    }
  };
  std::vector<std::thread> pool;
  for (int t = 1; t < threads; ++t) pool.emplace_back(work, t, threads);
  work(0, std::max(1, threads));
  for (auto& thread : pool) thread.join();
  return Collect(ndcg, recall, counted);
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
