// Ranking quality with binary relevance: every held-out item is relevant.
//   nDCG@K   = sum over relevant items at rank r <= K of 1/log2(r+1), divided by the same sum
//              for a perfect ranking of min(K, |relevant|) items.
//   Recall@K = relevant items in the top K / |relevant|.
#ifndef RANKER_TRAINER_RANKING_METRICS_H_
#define RANKER_TRAINER_RANKING_METRICS_H_

#include <cstddef>
#include <cstdint>
#include <vector>

namespace ranker {

// `ranked`: item indices best first (at least K of them when available); `relevant`: sorted.
double NdcgAtK(const std::vector<uint32_t>& ranked, const std::vector<uint32_t>& relevant,
               size_t k);
double RecallAtK(const std::vector<uint32_t>& ranked, const std::vector<uint32_t>& relevant,
                 size_t k);

struct MeanStdErr {
  double mean = 0;
  double stderr_ = 0;  // standard error of the mean
  size_t n = 0;
};
MeanStdErr Summarize(const std::vector<double>& values);

}  // namespace ranker

#endif  // RANKER_TRAINER_RANKING_METRICS_H_
