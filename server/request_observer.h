// Hooks the service calls for each request, so metrics stay out of the request logic.
// Implementations must be thread-safe and cheap (they run on the request path).
#ifndef RANKER_SERVER_REQUEST_OBSERVER_H_
#define RANKER_SERVER_REQUEST_OBSERVER_H_

#include <grpcpp/support/status.h>

#include <cstddef>
#include <cstdint>

#include "model/model.h"
#include "server/history_lookup.h"

namespace ranker {

enum class RpcMethod {
  kRank,
  kGetModelInfo,
  kReload,
  kListLoadedVersions,
  kRecord,
  kRecordStream,
  kListModels,
  kSetLabel
};

class RequestObserver {
 public:
  virtual ~RequestObserver() = default;
  virtual void OnRequest(RpcMethod method, grpc::StatusCode code, double seconds) = 0;
  // A successful Rank call: `candidates` given (the catalogue size when none), and what the
  // model did with them.
  virtual void OnRank(size_t candidates, const RankResult& result) = 0;
  // A history-model request without history ids looked the user's history up in the store.
  virtual void OnHistoryLookup(HistoryLookup result) = 0;
};

class NullRequestObserver final : public RequestObserver {
 public:
  void OnRequest(RpcMethod, grpc::StatusCode, double) override {}
  void OnRank(size_t, const RankResult&) override {}
  void OnHistoryLookup(HistoryLookup) override {}
};

}  // namespace ranker

#endif  // RANKER_SERVER_REQUEST_OBSERVER_H_
