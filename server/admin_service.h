// The operator service: reload now, list loaded versions. Bound to localhost by default; every
// call is first checked by AdminAccess (remote callers need the admin token).
#ifndef RANKER_SERVER_ADMIN_SERVICE_H_
#define RANKER_SERVER_ADMIN_SERVICE_H_

#include <chrono>

#include "proto/ranker.grpc.pb.h"
#include "server/admin_access.h"
#include "server/model_manager.h"
#include "server/request_observer.h"

namespace ranker {

class AdminService final : public v1::RankerAdmin::Service {
 public:
  // `manager` and `observer` must outlive the service.
  AdminService(ModelManager* manager, RequestObserver* observer, AdminAccess access)
      : manager_(manager), observer_(observer), access_(std::move(access)) {}

  grpc::Status Reload(grpc::ServerContext* context, const v1::ReloadRequest* request,
                      v1::ReloadResponse* response) override;
  grpc::Status ListLoadedVersions(grpc::ServerContext* context,
                                  const v1::ListLoadedVersionsRequest* request,
                                  v1::ListLoadedVersionsResponse* response) override;

 private:
  grpc::Status DoReload(v1::ReloadResponse* response);
  grpc::Status DoList(v1::ListLoadedVersionsResponse* response);
  void Observe(RpcMethod method, const grpc::Status& status,
               std::chrono::steady_clock::time_point start);

  ModelManager* manager_;
  RequestObserver* observer_;
  const AdminAccess access_;
};

}  // namespace ranker

#endif  // RANKER_SERVER_ADMIN_SERVICE_H_
