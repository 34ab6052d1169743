// Hooks the service calls for each request, so metrics stay out of the request logic.
// Implementations must be thread-safe and cheap (they run on the request path).
#ifndef RANKER_SERVER_REQUEST_OBSERVER_H_
#define RANKER_SERVER_REQUEST_OBSERVER_H_

#include <grpcpp/support/status.h>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

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
  kSetLabel,
  kReloadConfig
};

// Rank calls that reached one model and label (server/model_registry.h): their outcome and time.
class RouteObserver {
 public:
  virtual ~RouteObserver() = default;
  virtual void OnRank(grpc::StatusCode code, double seconds) = 0;
};

class RequestObserver {
 public:
  virtual ~RequestObserver() = default;
  virtual void OnRequest(RpcMethod method, grpc::StatusCode code, double seconds) = 0;
  // The observer of Rank calls routed to one model and label ("" for the newest version),
  // asked for once per route when a routing table is built; nullptr: not observed per route.
  virtual std::shared_ptr<RouteObserver> ForRoute(const std::string& /*model*/,
                                                  const std::string& /*label*/) {
    return nullptr;
  }
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
