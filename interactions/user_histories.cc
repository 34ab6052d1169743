#include "interactions/user_histories.h"

#include <algorithm>

namespace ranker {

std::vector<UserHistory> UserHistoriesOf(const Dataset& dataset) {
  std::vector<uint32_t> order(dataset.interactions.size());
  for (uint32_t i = 0; i < order.size(); ++i) order[i] = i;
  const auto& log = dataset.interactions;
  std::stable_sort(order.begin(), order.end(), [&](uint32_t a, uint32_t b) {
    if (log[a].user != log[b].user) return log[a].user < log[b].user;
    return log[a].timestamp < log[b].timestamp;
  });
  std::vector<UserHistory> histories;
  for (uint32_t i : order) {
    const Interaction& interaction = log[i];
    const uint64_t user_id = dataset.user_ids[interaction.user];
    if (histories.empty() || histories.back().user_id != user_id) {
      histories.push_back({user_id, {}});
    }
    histories.back().items.push_back(dataset.item_ids[interaction.item]);
  }
  return histories;
}

}  // namespace ranker
