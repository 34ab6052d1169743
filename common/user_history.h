// One user's recent items, in wire ids: what interaction logs yield (trainer/user_histories.h)
// and what a store's history family holds (model_store/history_store.h).
#ifndef RANKER_COMMON_USER_HISTORY_H_
#define RANKER_COMMON_USER_HISTORY_H_

#include <cstdint>
#include <vector>

namespace ranker {

struct UserHistory {
  uint64_t user_id = 0;
  std::vector<uint64_t> items;  // oldest first; a repeated item counts at its latest position
};

}  // namespace ranker

#endif  // RANKER_COMMON_USER_HISTORY_H_
