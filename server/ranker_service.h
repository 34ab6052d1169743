// The public gRPC service: Rank and GetModelInfo over the models a ModelRegistry routes to, on
// gRPC's callback API. Cheap Rank calls (up to kInlineMaxCandidates given candidates) run on the
// callback thread that received them; heavier ones (the whole catalogue, long candidate lists)
// run on RankWorkers, so that they never hold up health checks and cheap calls. Both kinds of
// thread live as long as the server, and so do their scratch buffers; request and response
// messages are reused across calls (MessagePool). At most limits.max_concurrent Rank calls are
// admitted at once; more get RESOURCE_EXHAUSTED at once. Requests arrive as bytes and are
// parsed here (wire_messages.h), so bytes that are not a request get INVALID_ARGUMENT.
// What a request means for the model is rank_request.h's job; this file is transport.
#ifndef RANKER_SERVER_RANKER_SERVICE_H_
#define RANKER_SERVER_RANKER_SERVICE_H_

#include <atomic>
#include <chrono>

#include "exposures/exposure_log.h"
#include "proto/ranker.grpc.pb.h"
#include "server/message_pool.h"
#include "server/model_manager.h"
#include "server/model_registry.h"
#include "server/rank_request.h"
#include "server/rank_workers.h"
#include "server/request_observer.h"
#include "server/stored_histories.h"

namespace ranker {

// GetModelInfo takes and answers bytes; Rank takes bytes and answers a RankResponse on a pooled
// arena (its handler is installed by the constructor), which saves gRPC a copy of the response
// buffer per call.
using RankerRawService = v1::Ranker::WithRawCallbackMethod_GetModelInfo<v1::Ranker::Service>;

class RankerService final : public RankerRawService {
 public:
  // Requests with at most this many candidates run inline: Rank(1000) takes ~0.2 ms here, the
  // whole catalogue of a large model several ms.
  static constexpr int kInlineMaxCandidates = 1000;

  // `manager`, `observer`, `histories` and `workers` must outlive the service. Without
  // `histories` (nullptr), history models rank requests without history ids by popularity.
  // Without `workers`, every call runs inline.
  RankerService(const ModelRegistry* registry, RankLimits limits, RequestObserver* observer,
                const StoredHistories* histories = nullptr, RankWorkers* workers = nullptr);
  // One model, served by `manager` (ModelRegistry::ForManager).
  RankerService(ModelManager* manager, RankLimits limits, RequestObserver* observer,
                const StoredHistories* histories = nullptr, RankWorkers* workers = nullptr);

  using RankerRawService::GetModelInfo;
  grpc::ServerUnaryReactor* GetModelInfo(grpc::CallbackServerContext* context,
                                         const grpc::ByteBuffer* request,
                                         grpc::ByteBuffer* response) override;

  // Rank as above, parsed, with the call's deadline given directly: a request whose deadline
  // has passed by the time it would be scored gets DEADLINE_EXCEEDED and is not scored.
  grpc::Status RankBefore(std::chrono::system_clock::time_point deadline,
                          const v1::RankRequest& request, v1::RankResponse* response);
  // Samples Rank responses into `log` (exposures/exposure_log.h); call before serving. `log`
  // must outlive the service; nullptr: none.
  void set_exposure_log(ExposureLog* log) { exposures_ = log; }
  // GetModelInfo's work, without the transport.
  grpc::Status DescribeRequested(const v1::GetModelInfoRequest& request, v1::ModelInfo* response);

 private:
  // ranker.v1.Ranker/Rank, installed by the constructor. REQUIRES: `response` lives on an arena
  // (the service's MessagePool gives every call one); the request is parsed onto it.
  grpc::ServerUnaryReactor* HandleRank(grpc::CallbackServerContext* context,
                                       const grpc::ByteBuffer* request, v1::RankResponse* response);
  // Counts the call in; false (and nothing counted) when limits.max_concurrent are in flight.
  bool Admit();
  // RESOURCE_EXHAUSTED for a call Admit refused, observed.
  grpc::Status RefuseBusy(std::chrono::steady_clock::time_point start);
  // Ranks an admitted call, counts it out and observes it.
  grpc::Status RankAdmitted(std::chrono::steady_clock::time_point start,
                            std::chrono::system_clock::time_point deadline,
                            const v1::RankRequest& request, v1::RankResponse* response);
  // Sets *route_observer once the call is routed to a model and label (left alone before).
  absl::Status DoRank(std::chrono::system_clock::time_point deadline,
                      const v1::RankRequest& request, v1::RankResponse* response,
                      std::shared_ptr<RouteObserver>* route_observer);

  std::unique_ptr<ModelRegistry> owned_registry_;  // the one-manager constructor's
  const ModelRegistry* registry_;
  const RankLimits limits_;
  RequestObserver* observer_;
  const StoredHistories* histories_;
  RankWorkers* workers_;
  ExposureLog* exposures_ = nullptr;
  MessagePool<v1::RankResponse> rank_messages_;
  std::atomic<uint32_t> ranks_in_flight_{0};
};

}  // namespace ranker

#endif  // RANKER_SERVER_RANKER_SERVICE_H_
