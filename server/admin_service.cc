#include "server/admin_service.h"

#include "absl/strings/str_cat.h"
#include "server/grpc_status.h"

namespace ranker {

void AdminService::Observe(RpcMethod method, const grpc::Status& status,
                           std::chrono::steady_clock::time_point start) {
  observer_->OnRequest(
      method, status.error_code(),
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
}

grpc::Status AdminService::Reload(grpc::ServerContext* context,
                                  const v1::ReloadRequest* /*request*/,
                                  v1::ReloadResponse* response) {
  const auto start = std::chrono::steady_clock::now();
  grpc::Status status = ToGrpcStatus(access_.Authorize(*context));
  if (status.ok()) status = DoReload(response);
  Observe(RpcMethod::kReload, status, start);
  return status;
}

grpc::Status AdminService::DoReload(v1::ReloadResponse* response) {
  const ReloadEvent event = manager_->Poll();
  std::shared_ptr<const Model> current = manager_->Current();
  response->set_serving_version(current ? current->version() : 0);
  switch (event.result) {
    case ReloadEvent::Result::kNoChange:
      response->set_message("no newer version in the store");
      return grpc::Status::OK;
    case ReloadEvent::Result::kLoaded:
      response->set_message(
          absl::StrCat("loaded version ", event.version, " in ", event.seconds, " s"));
      return grpc::Status::OK;
    default:
      return ToGrpcStatus(event.status);
  }
}

grpc::Status AdminService::ListLoadedVersions(grpc::ServerContext* context,
                                              const v1::ListLoadedVersionsRequest* /*request*/,
                                              v1::ListLoadedVersionsResponse* response) {
  const auto start = std::chrono::steady_clock::now();
  grpc::Status status = ToGrpcStatus(access_.Authorize(*context));
  if (status.ok()) status = DoList(response);
  Observe(RpcMethod::kListLoadedVersions, status, start);
  return status;
}

grpc::Status AdminService::DoList(v1::ListLoadedVersionsResponse* response) {
  std::shared_ptr<const Model> current = manager_->Current();
  for (const LoadedVersion& entry : manager_->Loaded()) {
    v1::LoadedVersion* version = response->add_versions();
    version->set_version(entry.version);
    version->set_loaded_unix_seconds(entry.loaded_unix_seconds);
    version->set_resident_bytes(entry.resident_bytes);
    version->set_current(current != nullptr && current->version() == entry.version);
  }
  return grpc::Status::OK;
}

}  // namespace ranker
