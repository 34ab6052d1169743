// A generated interaction log with planted structure, for tests that train: users belong to
// one of 6 taste clusters and mostly pick items of their cluster, while item popularity is flat
// across clusters, so popularity ranking cannot tell users apart and a trained model must.
#ifndef RANKER_TESTS_SUPPORT_PLANTED_DATASET_H_
#define RANKER_TESTS_SUPPORT_PLANTED_DATASET_H_

#include <array>
#include <random>
#include <set>
#include <vector>

#include "interactions/interactions.h"

namespace ranker::testing {

// 240 users, 360 items, 30 interactions each.
inline Dataset PlantedDataset() {
  std::mt19937_64 rng(7);
  std::vector<std::array<double, 4>> raw;
  const int users = 240, items = 360, clusters = 6;
  for (int u = 0; u < users; ++u) {
    const int cluster = u % clusters;
    std::set<int> chosen;
    while (chosen.size() < 30) {
      const bool in_cluster = rng() % 10 < 9;
      const int item = in_cluster
                           ? cluster + clusters * static_cast<int>(rng() % (items / clusters))
                           : static_cast<int>(rng() % items);
      chosen.insert(item);
    }
    for (int item : chosen)
      raw.push_back({double(u + 1000), double(3 * item + 1), 5, double(rng() % 100000)});
  }
  return MakeDataset("planted", raw, true);
}

}  // namespace ranker::testing

#endif  // RANKER_TESTS_SUPPORT_PLANTED_DATASET_H_
