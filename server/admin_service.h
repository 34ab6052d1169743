// The operator service: reload now, list loaded versions. Bound to localhost by default.
#ifndef RANKER_SERVER_ADMIN_SERVICE_H_
#define RANKER_SERVER_ADMIN_SERVICE_H_

#include "proto/ranker.grpc.pb.h"
#include "server/model_manager.h"
#include "server/request_observer.h"

namespace ranker {

class AdminService final : public v1::RankerAdmin::Service {
 public:
  // `manager` and `observer` must outlive the service.
  AdminService(ModelManager* manager, RequestObserver* observer)
      : manager_(manager), observer_(observer) {}

  grpc::Status Reload(grpc::ServerContext* context, const v1::ReloadRequest* request,
                      v1::ReloadResponse* response) override;
  grpc::Status ListLoadedVersions(grpc::ServerContext* context,
                                  const v1::ListLoadedVersionsRequest* request,
                                  v1::ListLoadedVersionsResponse* response) override;

 private:
  grpc::Status DoReload(v1::ReloadResponse* response);

  ModelManager* manager_;
  RequestObserver* observer_;
};

}  // namespace ranker

#endif  // RANKER_SERVER_ADMIN_SERVICE_H_
