// The operator service: reload now, list loaded versions. Bound to localhost by default.
#ifndef RANKER_SERVER_ADMIN_SERVICE_H_
#define RANKER_SERVER_ADMIN_SERVICE_H_

#include "proto/ranker.grpc.pb.h"
#include "server/model_manager.h"

namespace ranker {

class AdminService final : public v1::RankerAdmin::Service {
 public:
  // `manager` must outlive the service.
  explicit AdminService(ModelManager* manager) : manager_(manager) {}

  grpc::Status Reload(grpc::ServerContext* context, const v1::ReloadRequest* request,
                      v1::ReloadResponse* response) override;
  grpc::Status ListLoadedVersions(grpc::ServerContext* context,
                                  const v1::ListLoadedVersionsRequest* request,
                                  v1::ListLoadedVersionsResponse* response) override;

 private:
  ModelManager* manager_;
};

}  // namespace ranker

#endif  // RANKER_SERVER_ADMIN_SERVICE_H_
