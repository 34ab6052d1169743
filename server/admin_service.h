// The operator service: reload now, list loaded versions, list models, move a label. Bound to
// localhost by default; every call is first checked by AdminAccess (remote callers need the admin
// token). On the callback API with requests parsed here (wire_messages.h), so bytes that are not a
// request get INVALID_ARGUMENT. A reload loads a model, which can take seconds: it runs on the
// service's own thread, never on gRPC's callback threads.
#ifndef RANKER_SERVER_ADMIN_SERVICE_H_
#define RANKER_SERVER_ADMIN_SERVICE_H_

#include <atomic>
#include <chrono>
#include <functional>
#include <string>
#include <vector>

#include "proto/ranker.grpc.pb.h"
#include "server/admin_access.h"
#include "server/model_manager.h"
#include "server/model_registry.h"
#include "server/rank_workers.h"
#include "server/request_observer.h"

namespace ranker {

using AdminRawService = v1::RankerAdmin::WithRawCallbackMethod_Reload<
    v1::RankerAdmin::WithRawCallbackMethod_ListLoadedVersions<
        v1::RankerAdmin::WithRawCallbackMethod_ListModels<
            v1::RankerAdmin::WithRawCallbackMethod_SetLabel<
                v1::RankerAdmin::WithRawCallbackMethod_ReloadConfig<v1::RankerAdmin::Service>>>>>;

class AdminService final : public AdminRawService {
 public:
  // `manager` (the default model's), `registry` and `observer` must outlive the service.
  AdminService(ModelManager* manager, ModelRegistry* registry, RequestObserver* observer,
               AdminAccess access)
      : manager_(manager),
        registry_(registry),
        observer_(observer),
        access_(std::move(access)),
        reloader_(1) {}

  using AdminRawService::ListLoadedVersions;
  using AdminRawService::ListModels;
  using AdminRawService::Reload;
  using AdminRawService::ReloadConfig;
  using AdminRawService::SetLabel;

  // What ReloadConfig runs (on the service's reload thread): the server's config reload,
  // returning the models then served. Unset: FAILED_PRECONDITION.
  using ConfigReloader = std::function<absl::StatusOr<std::vector<std::string>>()>;
  void set_config_reloader(ConfigReloader reloader) { config_reloader_ = std::move(reloader); }
  grpc::ServerUnaryReactor* Reload(grpc::CallbackServerContext* context,
                                   const grpc::ByteBuffer* request,
                                   grpc::ByteBuffer* response) override;
  grpc::ServerUnaryReactor* ListLoadedVersions(grpc::CallbackServerContext* context,
                                               const grpc::ByteBuffer* request,
                                               grpc::ByteBuffer* response) override;
  grpc::ServerUnaryReactor* ListModels(grpc::CallbackServerContext* context,
                                       const grpc::ByteBuffer* request,
                                       grpc::ByteBuffer* response) override;
  grpc::ServerUnaryReactor* SetLabel(grpc::CallbackServerContext* context,
                                     const grpc::ByteBuffer* request,
                                     grpc::ByteBuffer* response) override;
  grpc::ServerUnaryReactor* ReloadConfig(grpc::CallbackServerContext* context,
                                         const grpc::ByteBuffer* request,
                                         grpc::ByteBuffer* response) override;

 private:
  // Authorization and the request's bytes; OK when the call may go on.
  template <typename Request>
  grpc::Status Admit(grpc::CallbackServerContext* context, const grpc::ByteBuffer* bytes,
                     Request* request);
  grpc::Status DoReload(v1::ReloadResponse* response);
  // Runs `work` on the reload thread and finishes the call with its status (CANCELLED instead
  // if the call was cancelled while queued); RESOURCE_EXHAUSTED at once when kMaxQueuedReloads
  // are queued (each can load models, and shutdown waits for every queued one).
  grpc::ServerUnaryReactor* QueueReload(RpcMethod method,
                                        std::chrono::steady_clock::time_point start,
                                        grpc::CallbackServerContext* context,
                                        grpc::ServerUnaryReactor* reactor,
                                        std::function<grpc::Status()> work);
  grpc::Status DoList(v1::ListLoadedVersionsResponse* response);
  void Observe(RpcMethod method, const grpc::Status& status,
               std::chrono::steady_clock::time_point start);

  ModelManager* manager_;
  ModelRegistry* registry_;
  RequestObserver* observer_;
  const AdminAccess access_;
  ConfigReloader config_reloader_;
  // Reloads queued or running; more than kMaxQueuedReloads are refused (RESOURCE_EXHAUSTED):
  // each can load a model, and shutdown waits for every queued one.
  static constexpr uint32_t kMaxQueuedReloads = 4;
  std::atomic<uint32_t> queued_reloads_{0};
  RankWorkers reloader_;  // one thread: reloads run one at a time, in order
};

}  // namespace ranker

#endif  // RANKER_SERVER_ADMIN_SERVICE_H_
