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

// The metric label: "found", "absent", "unavailable" or "error".
inline const char* HistoryLookupName(HistoryLookup lookup) {
  switch (lookup) {
    case HistoryLookup::kFound:
      return "found";
    case HistoryLookup::kAbsent:
      return "absent";
    case HistoryLookup::kUnavailable:
      return "unavailable";
    case HistoryLookup::kError:
      return "error";
  }
  return "error";
}

}  // namespace ranker

#endif  // RANKER_SERVER_HISTORY_LOOKUP_H_
