// The evaluation protocol's split. Per user, in time order (seeded random order when the log
// has no timestamps; ties broken by a seeded shuffle): the last 20% of interactions (at least
// one) are test, the 10% before them validation, the rest training.
#ifndef RANKER_TRAINER_SPLIT_H_
#define RANKER_TRAINER_SPLIT_H_

#include <cstdint>
#include <vector>

#include "trainer/interactions.h"

namespace ranker {

struct UserSplit {
  std::vector<uint32_t> train, validation, test;  // item indices, each sorted ascending
};

struct Split {
  std::vector<UserSplit> users;             // by dense user index
  std::vector<uint32_t> train_item_counts;  // popularity in the training part
  size_t train_interactions = 0;
};

struct SplitOptions {
  double test_fraction = 0.2;
  double validation_fraction = 0.1;
  uint64_t seed = 1;
};

Split SplitPerUser(const Dataset& dataset, const SplitOptions& options = {});

}  // namespace ranker

#endif  // RANKER_TRAINER_SPLIT_H_
