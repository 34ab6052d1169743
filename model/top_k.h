// Streaming top-k selection: keeps the k best (score, id) pairs seen, best = higher score, then
// lower id. NaN scores rank below everything. O(n log k), no allocation after Reset's reserve.
// Not thread-safe; one per request (kept in per-thread scratch).
#ifndef RANKER_MODEL_TOP_K_H_
#define RANKER_MODEL_TOP_K_H_

#include <cstddef>
#include <cstdint>
#include <vector>

namespace ranker {

struct ScoredId {
  uint64_t id;
  float score;
};

// True if a ranks strictly before b.
inline bool RanksBefore(const ScoredId& a, const ScoredId& b) {
  if (a.score != b.score) return a.score > b.score;
  return a.id < b.id;
}

class TopK {
 public:
  void Reset(size_t k);
  void Push(uint64_t id, float score);
  // True once k pairs are kept: a pair that does not rank before the worst kept is dropped.
  bool full() const { return heap_.size() == k_; }
  // The worst kept score. REQUIRES: full() and k >= 1.
  float worst_score() const { return heap_.front().score; }
  // The kept pairs, best first. Leaves the selector empty.
  void TakeSorted(std::vector<ScoredId>* out);
  // The kept pairs in increasing id order. Leaves the selector empty.
  void TakeInIdOrder(std::vector<ScoredId>* out);

 private:
  size_t k_ = 0;
  std::vector<ScoredId> heap_;  // worst of the kept at heap_[0]
};

}  // namespace ranker

#endif  // RANKER_MODEL_TOP_K_H_
