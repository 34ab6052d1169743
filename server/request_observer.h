// Hooks the service calls for each request, so metrics stay out of the request logic.
// Implementations must be thread-safe and cheap (they run on the request path).
#ifndef RANKER_SERVER_REQUEST_OBSERVER_H_
#define RANKER_SERVER_REQUEST_OBSERVER_H_

#include <grpcpp/support/status.h>

#include <cstddef>
#include <cstdint>

#include "server/history_lookup.h"
namespace ranker {

enum class RpcMethod { kRank, kGetModelInfo, kReload, kListLoadedVersions };

// What one successful Rank call did.
struct RankStats {
  size_t candidates = 0;          // given candidates, or the catalogue size when none
  uint64_t retrieval_scored = 0;  // two stages: items retrieval scored (0: one stage)
  uint32_t ranked = 0;            // items the RankNet scorer scored
  bool popularity = false;        // ranked by popularity (history model, no usable history)
  uint32_t unknown_users = 0, unknown_items = 0;
};

class RequestObserver {
 public:
  virtual ~RequestObserver() = default;
  virtual void OnRequest(RpcMethod method, grpc::StatusCode code, double seconds) = 0;
  virtual void OnRank(const RankStats& stats) = 0;
  // A history-model request without history ids looked the user's history up in the store.
  virtual void OnHistoryLookup(HistoryLookup result) = 0;
};

class NullRequestObserver final : public RequestObserver {
 public:
  void OnRequest(RpcMethod, grpc::StatusCode, double) override {}
  void OnRank(const RankStats&) override {}
  void OnHistoryLookup(HistoryLookup) override {}
};

}  // namespace ranker

#endif  // RANKER_SERVER_REQUEST_OBSERVER_H_
