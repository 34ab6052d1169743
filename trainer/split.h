// The evaluation protocol's split. Per user, in time order (seeded random order when the log
// has no timestamps; ties broken by a seeded shuffle): the last 20% of interactions (at least
// one) are test, the 10% before them validation, the rest training. Histories (what a history
// model pools) are the most recent items in that time order, not in index order.
#ifndef RANKER_TRAINER_SPLIT_H_
#define RANKER_TRAINER_SPLIT_H_

#include <cstdint>
#include <vector>

#include "interactions/interactions.h"

namespace ranker {

struct UserSplit {
  std::vector<uint32_t> train, validation, test;  // item indices, each sorted ascending
  // The same training and validation items in time order, oldest first.
  std::vector<uint32_t> train_in_time, validation_in_time;
};

// Histories are capped at the most recent items: the serving default and the trainer's.
constexpr size_t kDefaultMaxHistory = 200;

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

// The user's most recent `max_history` (0: all) training items, then validation items when
// `with_validation` (the test-time history), oldest first: what a history model pools.
std::vector<uint32_t> RecentHistory(const UserSplit& user, bool with_validation,
                                    size_t max_history);

}  // namespace ranker

#endif  // RANKER_TRAINER_SPLIT_H_
