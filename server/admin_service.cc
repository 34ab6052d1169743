#include "server/admin_service.h"

#include "absl/strings/str_cat.h"
#include "common/grpc_status.h"
#include "server/wire_messages.h"

namespace ranker {

namespace {

void AddVersions(const ModelManager& manager,
                 google::protobuf::RepeatedPtrField<v1::LoadedVersion>* out) {
  std::shared_ptr<const Model> current = manager.Current();
  for (const LoadedVersion& entry : manager.Loaded()) {
    v1::LoadedVersion* version = out->Add();
    version->set_version(entry.version);
    version->set_loaded_unix_seconds(entry.loaded_unix_seconds);
    version->set_resident_bytes(entry.resident_bytes);
    version->set_current(current != nullptr && current->version() == entry.version);
  }
}

}  // namespace

void AdminService::Observe(RpcMethod method, const grpc::Status& status,
                           std::chrono::steady_clock::time_point start) {
  observer_->OnRequest(
      method, status.error_code(),
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
}

template <typename Request>
grpc::Status AdminService::Admit(grpc::CallbackServerContext* context,
                                 const grpc::ByteBuffer* bytes, Request* request) {
  grpc::Status status = ToGrpcStatus(access_.Authorize(*context));
  if (status.ok()) status = ParseRequest(*bytes, request);
  return status;
}

grpc::ServerUnaryReactor* AdminService::Reload(grpc::CallbackServerContext* context,
                                               const grpc::ByteBuffer* request_bytes,
                                               grpc::ByteBuffer* response_bytes) {
  const auto start = std::chrono::steady_clock::now();
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  v1::ReloadRequest request;
  if (grpc::Status status = Admit(context, request_bytes, &request); !status.ok()) {
    Observe(RpcMethod::kReload, status, start);
    reactor->Finish(status);
    return reactor;
  }
  return QueueReload(RpcMethod::kReload, start, context, reactor, [this, response_bytes] {
    v1::ReloadResponse response;
    grpc::Status status = DoReload(&response);
    if (status.ok()) status = SerializeResponse(response, response_bytes);
    return status;
  });
}

grpc::ServerUnaryReactor* AdminService::QueueReload(RpcMethod method,
                                                    std::chrono::steady_clock::time_point start,
                                                    grpc::CallbackServerContext* context,
                                                    grpc::ServerUnaryReactor* reactor,
                                                    std::function<grpc::Status()> work) {
  if (queued_reloads_.fetch_add(1, std::memory_order_acq_rel) >= kMaxQueuedReloads) {
    queued_reloads_.fetch_sub(1, std::memory_order_acq_rel);
    const grpc::Status busy(grpc::StatusCode::RESOURCE_EXHAUSTED,
                            absl::StrCat(kMaxQueuedReloads,
                                         " reloads already queued; the last one will load the "
                                         "newest version and read the config as it is then"));
    Observe(method, busy, start);
    reactor->Finish(busy);
    return reactor;
  }
  reloader_.Submit([this, method, start, context, reactor, work = std::move(work)] {
    // A call cancelled while queued (its client gone, or shutdown's grace over) loads nothing.
    const grpc::Status status =
        context->IsCancelled() ? grpc::Status(grpc::StatusCode::CANCELLED, "cancelled while queued")
                               : work();
    queued_reloads_.fetch_sub(1, std::memory_order_acq_rel);
    Observe(method, status, start);
    reactor->Finish(status);
  });
  return reactor;
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

grpc::ServerUnaryReactor* AdminService::ListLoadedVersions(grpc::CallbackServerContext* context,
                                                           const grpc::ByteBuffer* request_bytes,
                                                           grpc::ByteBuffer* response_bytes) {
  const auto start = std::chrono::steady_clock::now();
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  v1::ListLoadedVersionsRequest request;
  grpc::Status status = Admit(context, request_bytes, &request);
  v1::ListLoadedVersionsResponse response;
  if (status.ok()) status = DoList(&response);
  if (status.ok()) status = SerializeResponse(response, response_bytes);
  Observe(RpcMethod::kListLoadedVersions, status, start);
  reactor->Finish(status);
  return reactor;
}

grpc::Status AdminService::DoList(v1::ListLoadedVersionsResponse* response) {
  AddVersions(*manager_, response->mutable_versions());
  return grpc::Status::OK;
}

grpc::ServerUnaryReactor* AdminService::ListModels(grpc::CallbackServerContext* context,
                                                   const grpc::ByteBuffer* request_bytes,
                                                   grpc::ByteBuffer* response_bytes) {
  const auto start = std::chrono::steady_clock::now();
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  v1::ListModelsRequest request;
  grpc::Status status = Admit(context, request_bytes, &request);
  v1::ListModelsResponse response;
  if (status.ok()) {
    const std::string default_model = registry_->DefaultModel();
    for (const std::shared_ptr<const ServedModel>& served : registry_->Models()) {
      v1::ServedModelInfo* model = response.add_models();
      model->set_name(served->config.name());
      model->set_store(served->config.store());
      model->set_is_default(served->config.name() == default_model);
      AddVersions(*served->manager, model->mutable_versions());
      for (const auto& [label, version] : served->labels)
        (*model->mutable_labels())[label] = version;
      for (const config::TrafficSplit::Arm& arm : served->config.split().arms()) {
        v1::SplitArm* out = model->add_split();
        out->set_label(arm.label());
        out->set_percent(arm.percent());
      }
    }
    status = SerializeResponse(response, response_bytes);
  }
  Observe(RpcMethod::kListModels, status, start);
  reactor->Finish(status);
  return reactor;
}

grpc::ServerUnaryReactor* AdminService::SetLabel(grpc::CallbackServerContext* context,
                                                 const grpc::ByteBuffer* request_bytes,
                                                 grpc::ByteBuffer* response_bytes) {
  const auto start = std::chrono::steady_clock::now();
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  auto request = std::make_shared<v1::SetLabelRequest>();
  if (grpc::Status status = Admit(context, request_bytes, request.get()); !status.ok()) {
    Observe(RpcMethod::kSetLabel, status, start);
    reactor->Finish(status);
    return reactor;
  }
  // On the reload thread: a label move waits for any config being applied, which may be
  // loading models, and that must not hold a gRPC callback thread.
  reloader_.Submit([this, start, request, response_bytes, reactor] {
    const std::string model =
        request->model().empty() ? registry_->DefaultModel() : request->model();
    absl::StatusOr<uint64_t> previous =
        registry_->SetLabel(model, request->label(), request->version());
    grpc::Status status = ToGrpcStatus(previous.status());
    if (status.ok()) {
      v1::SetLabelResponse response;
      response.set_previous_version(*previous);
      status = SerializeResponse(response, response_bytes);
    }
    Observe(RpcMethod::kSetLabel, status, start);
    reactor->Finish(status);
  });
  return reactor;
}

grpc::ServerUnaryReactor* AdminService::ReloadConfig(grpc::CallbackServerContext* context,
                                                     const grpc::ByteBuffer* request_bytes,
                                                     grpc::ByteBuffer* response_bytes) {
  const auto start = std::chrono::steady_clock::now();
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  v1::ReloadConfigRequest request;
  if (grpc::Status status = Admit(context, request_bytes, &request); !status.ok()) {
    Observe(RpcMethod::kReloadConfig, status, start);
    reactor->Finish(status);
    return reactor;
  }
  // On the reload thread: applying a config loads models, which must not hold a gRPC callback
  // thread, and it runs after any reload or label move queued before it.
  return QueueReload(RpcMethod::kReloadConfig, start, context, reactor, [this, response_bytes] {
    if (!config_reloader_) {
      return grpc::Status(grpc::StatusCode::FAILED_PRECONDITION,
                          "this server has no config reloader");
    }
    absl::StatusOr<std::vector<std::string>> models = config_reloader_();
    grpc::Status status = ToGrpcStatus(models.status());
    if (status.ok()) {
      v1::ReloadConfigResponse response;
      for (const std::string& name : *models) response.add_models(name);
      status = SerializeResponse(response, response_bytes);
    }
    return status;
  });
}

}  // namespace ranker
