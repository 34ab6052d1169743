// What reading a user's stored history gave, for the service and its metrics.
#ifndef RANKER_SERVER_HISTORY_LOOKUP_H_
#define RANKER_SERVER_HISTORY_LOOKUP_H_

namespace ranker {

enum class HistoryLookup {
  kFound,        // the user has a stored history
  kAbsent,       // no stored history for the user
  kUnavailable,  // the store has no history family (yet)
  kError,        // the read failed or the value is malformed (logged)
};
inline constexpr int kHistoryLookupCount = 4;
const char* HistoryLookupName(HistoryLookup lookup);

}  // namespace ranker

#endif  // RANKER_SERVER_HISTORY_LOOKUP_H_
