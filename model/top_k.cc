#include "model/top_k.h"

#include <algorithm>
#include <cmath>
#include <limits>

namespace ranker {

void TopK::Reset(size_t k) {
  k_ = k;
  heap_.clear();
  heap_.reserve(k);
}

void TopK::Push(uint64_t id, float score) {
  if (std::isnan(score)) score = -std::numeric_limits<float>::infinity();
  const ScoredId candidate{id, score};
  if (heap_.size() < k_) {
    heap_.push_back(candidate);
    std::push_heap(heap_.begin(), heap_.end(), RanksBefore);
  } else if (k_ > 0 && RanksBefore(candidate, heap_.front())) {
    std::pop_heap(heap_.begin(), heap_.end(), RanksBefore);
    heap_.back() = candidate;
    std::push_heap(heap_.begin(), heap_.end(), RanksBefore);
  }
}

void TopK::TakeSorted(std::vector<ScoredId>* out) {
  std::sort_heap(heap_.begin(), heap_.end(), RanksBefore);
  out->assign(heap_.begin(), heap_.end());
  heap_.clear();
}

void TopK::TakeInIdOrder(std::vector<ScoredId>* out) {
  std::sort(heap_.begin(), heap_.end(),
            [](const ScoredId& a, const ScoredId& b) { return a.id < b.id; });
  out->assign(heap_.begin(), heap_.end());
  heap_.clear();
}

}  // namespace ranker
