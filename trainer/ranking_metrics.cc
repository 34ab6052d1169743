#include "trainer/ranking_metrics.h"

#include <algorithm>
#include <cmath>

namespace ranker {

double NdcgAtK(const std::vector<uint32_t>& ranked, const std::vector<uint32_t>& relevant,
               size_t k) {
  if (relevant.empty()) return 0;
  double dcg = 0, ideal = 0;
  for (size_t r = 0; r < std::min(k, ranked.size()); ++r) {
    if (std::binary_search(relevant.begin(), relevant.end(), ranked[r])) {
      dcg += 1.0 / std::log2(static_cast<double>(r) + 2.0);
    }
  }
  for (size_t r = 0; r < std::min(k, relevant.size()); ++r) {
    ideal += 1.0 / std::log2(static_cast<double>(r) + 2.0);
  }
  return dcg / ideal;
}

double RecallAtK(const std::vector<uint32_t>& ranked, const std::vector<uint32_t>& relevant,
                 size_t k) {
  if (relevant.empty()) return 0;
  size_t hits = 0;
  for (size_t r = 0; r < std::min(k, ranked.size()); ++r) {
    hits += std::binary_search(relevant.begin(), relevant.end(), ranked[r]) ? 1 : 0;
  }
  return static_cast<double>(hits) / static_cast<double>(relevant.size());
}

MeanStdErr Summarize(const std::vector<double>& values) {
  MeanStdErr s;
  s.n = values.size();
  if (s.n == 0) return s;
  double sum = 0;
  for (double v : values) sum += v;
  s.mean = sum / static_cast<double>(s.n);
  if (s.n < 2) return s;
  double squares = 0;
  for (double v : values) squares += (v - s.mean) * (v - s.mean);
  s.stderr_ = std::sqrt(squares / static_cast<double>(s.n - 1) / static_cast<double>(s.n));
  return s;
}

}  // namespace ranker
