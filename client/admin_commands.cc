// ranker-client reload, versions, models and set-label: the admin service.
#include <cstdio>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "client/command_output.h"
#include "client/commands.h"
#include "common/files.h"
#include "common/format_bytes.h"
#include "proto/ranker.grpc.pb.h"

namespace ranker {
namespace {

// Adds the admin token, when one is configured, to an admin call. False (and a message) if the
// token file cannot be read.
bool AuthorizeAdmin(const CallOptions& call, grpc::ClientContext* context) {
  if (call.admin_token_file.empty()) return true;
  absl::StatusOr<std::string> token = ReadTokenFile(call.admin_token_file);
  if (!token.ok()) {
    std::fprintf(stderr, "ranker-client: %s\n", std::string(token.status().message()).c_str());
    return false;
  }
  context->AddMetadata("authorization", absl::StrCat("Bearer ", *token));
  return true;
}

}  // namespace

int RunReload(const CallOptions& call) {
  auto stub = v1::RankerAdmin::NewStub(Connect(call, call.admin_target));
  grpc::ClientContext context;
  SetDeadline(call, &context);
  if (!AuthorizeAdmin(call, &context)) return 2;
  v1::ReloadResponse response;
  grpc::Status status = stub->Reload(&context, v1::ReloadRequest(), &response);
  if (!status.ok()) return Fail(status);
  if (call.json) return PrintJson(response);
  std::printf("%s; serving version %lu\n", response.message().c_str(), response.serving_version());
  return 0;
}

int RunVersions(const CallOptions& call) {
  auto stub = v1::RankerAdmin::NewStub(Connect(call, call.admin_target));
  grpc::ClientContext context;
  SetDeadline(call, &context);
  if (!AuthorizeAdmin(call, &context)) return 2;
  v1::ListLoadedVersionsResponse response;
  grpc::Status status =
      stub->ListLoadedVersions(&context, v1::ListLoadedVersionsRequest(), &response);
  if (!status.ok()) return Fail(status);
  if (call.json) return PrintJson(response);
  std::printf("%10s %20s %12s %s\n", "VERSION", "LOADED", "RESIDENT", "");
  for (const v1::LoadedVersion& v : response.versions()) {
    std::printf("%10lu %20s %12s %s\n", v.version(),
                FormatUnixSeconds(v.loaded_unix_seconds()).c_str(),
                FormatBytes(v.resident_bytes()).c_str(), v.current() ? "serving" : "");
  }
  return 0;
}

int RunModels(const CallOptions& call) {
  auto stub = v1::RankerAdmin::NewStub(Connect(call, call.admin_target));
  grpc::ClientContext context;
  SetDeadline(call, &context);
  if (!AuthorizeAdmin(call, &context)) return 2;
  v1::ListModelsResponse response;
  grpc::Status status = stub->ListModels(&context, v1::ListModelsRequest(), &response);
  if (!status.ok()) return Fail(status);
  if (call.json) return PrintJson(response);
  for (const v1::ServedModelInfo& model : response.models()) {
    std::string versions, labels, split;
    for (const v1::LoadedVersion& v : model.versions()) {
      absl::StrAppend(&versions, versions.empty() ? "" : ", ", v.version(), v.current() ? "*" : "");
    }
    for (const auto& [label, version] : model.labels()) {
      absl::StrAppend(&labels, labels.empty() ? "" : ", ", label, " = ", version);
    }
    for (const v1::SplitArm& arm : model.split()) {
      absl::StrAppend(&split, split.empty() ? "" : ", ", arm.label(), " ", arm.percent(), "%");
    }
    std::printf("%s%s  store %s\n  loaded versions: %s (* newest)\n", model.name().c_str(),
                model.is_default() ? " (default)" : "", model.store().c_str(),
                versions.empty() ? "none" : versions.c_str());
    if (!labels.empty()) std::printf("  labels: %s\n", labels.c_str());
    if (!split.empty()) std::printf("  traffic split: %s\n", split.c_str());
  }
  return 0;
}

int RunSetLabel(const CallOptions& call, const std::string& model, const std::string& label,
                uint64_t version) {
  auto stub = v1::RankerAdmin::NewStub(Connect(call, call.admin_target));
  grpc::ClientContext context;
  SetDeadline(call, &context);
  if (!AuthorizeAdmin(call, &context)) return 2;
  v1::SetLabelRequest request;
  request.set_model(model);
  request.set_label(label);
  request.set_version(version);
  v1::SetLabelResponse response;
  grpc::Status status = stub->SetLabel(&context, request, &response);
  if (!status.ok()) return Fail(status);
  if (call.json) return PrintJson(response);
  std::printf("%s: label %s now names version %lu%s\n",
              model.empty() ? "default model" : model.c_str(), label.c_str(), version,
              response.previous_version() > 0
                  ? absl::StrCat(" (was ", response.previous_version(), ")").c_str()
                  : " (new label)");
  return 0;
}

int RunReloadConfig(const CallOptions& call) {
  auto stub = v1::RankerAdmin::NewStub(Connect(call, call.admin_target));
  grpc::ClientContext context;
  SetDeadline(call, &context);
  if (!AuthorizeAdmin(call, &context)) return 2;
  v1::ReloadConfigResponse response;
  grpc::Status status = stub->ReloadConfig(&context, v1::ReloadConfigRequest(), &response);
  if (!status.ok()) return Fail(status);
  if (call.json) return PrintJson(response);
  std::printf("model config applied: %s\n", absl::StrJoin(response.models(), ", ").c_str());
  return 0;
}

}  // namespace ranker
