// The per-user histories an interaction log implies, in wire (raw) ids: what
// `ranker-store history import` and `ranker-train --publish` write to a store's history
// family, and what a history model pools at serving time.
#ifndef RANKER_INTERACTIONS_USER_HISTORIES_H_
#define RANKER_INTERACTIONS_USER_HISTORIES_H_

#include <cstdint>
#include <vector>

#include "common/user_history.h"
#include "interactions/interactions.h"

namespace ranker {

// One entry per user with interactions, ascending user id; items in time order (for a log
// read without timestamps, its line order: see ReadInteractions), ties by ascending item id.
std::vector<UserHistory> UserHistoriesOf(const Dataset& dataset);

}  // namespace ranker

#endif  // RANKER_INTERACTIONS_USER_HISTORIES_H_
