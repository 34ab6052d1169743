// The public gRPC service: Rank and GetModelInfo over the models a ModelManager holds.
// Stateless apart from per-thread scratch buffers and a count of calls in flight; safe for any
// number of concurrent calls, of which at most limits.max_concurrent Rank calls do work.
#ifndef RANKER_SERVER_RANKER_SERVICE_H_
#define RANKER_SERVER_RANKER_SERVICE_H_

#include <atomic>
#include <chrono>

#include "proto/ranker.grpc.pb.h"
#include "server/model_manager.h"
#include "server/rank_request_validator.h"
#include "server/request_observer.h"
#include "server/stored_histories.h"

namespace ranker {

class RankerService final : public v1::Ranker::Service {
 public:
  // `manager`, `observer` and `histories` must outlive the service. Without `histories`
  // (nullptr), history models rank requests without history ids by popularity.
  RankerService(const ModelManager* manager, RankLimits limits, RequestObserver* observer,
                const StoredHistories* histories = nullptr);

  grpc::Status Rank(grpc::ServerContext* context, const v1::RankRequest* request,
                    v1::RankResponse* response) override;
  grpc::Status GetModelInfo(grpc::ServerContext* context, const v1::GetModelInfoRequest* request,
                            v1::ModelInfo* response) override;

  // Rank as above with the call's deadline given directly: a request whose deadline has passed
  // by the time it would be scored gets DEADLINE_EXCEEDED and is not scored.
  grpc::Status RankBefore(std::chrono::system_clock::time_point deadline,
                          const v1::RankRequest& request, v1::RankResponse* response);

 private:
  absl::Status DoRank(std::chrono::system_clock::time_point deadline,
                      const v1::RankRequest& request, v1::RankResponse* response);

  const ModelManager* manager_;
  const RankLimits limits_;
  RequestObserver* observer_;
  const StoredHistories* histories_;
  std::atomic<uint32_t> ranks_in_flight_{0};
};

// Fills `info` from `model` (and its load figures, when `loaded` is non-null).
void DescribeModel(const Model& model, const LoadedVersion* loaded, v1::ModelInfo* info);

}  // namespace ranker

#endif  // RANKER_SERVER_RANKER_SERVICE_H_
