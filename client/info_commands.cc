// ranker-client info (the served model) and health (the standard gRPC health check).
#include <algorithm>
#include <cstdio>
#include <string>
#include <vector>

#include "absl/strings/str_join.h"
#include "client/command_output.h"
#include "client/commands.h"
#include "common/format_bytes.h"
#include "proto/grpc_health.grpc.pb.h"
#include "proto/ranker.grpc.pb.h"

namespace ranker {
namespace {

void PrintModelInfo(const v1::ModelInfo& info) {
  if (!info.model().empty() && info.model() != "default") {
    std::string labels;
    for (const auto& [label, version] : info.labels()) {
      absl::StrAppend(&labels, labels.empty() ? "" : ", ", label, " = ", version);
    }
    std::printf("model %s%s\n", info.model().c_str(),
                labels.empty() ? "" : absl::StrCat(" (labels: ", labels, ")").c_str());
  }
  std::printf("model version %lu (created %s, loaded in %.3f s), user mode %s\n", info.version(),
              FormatUnixSeconds(info.created_unix_seconds()).c_str(), info.load_seconds(),
              info.user_mode().c_str());
  // RATIO counts parameters (the kind's compression); MEMORY counts bytes, int8 rows included.
  std::printf("%-7s %-11s %-7s %12s %12s %5s %-10s %12s %12s %8s %8s\n", "TABLE", "KIND", "ROWS",
              "N", "M", "D", "HASH", "RESIDENT", "FULL-FP32", "RATIO", "MEMORY");
  for (const v1::TableInfo& t : info.tables()) {
    std::printf(
        "%-7s %-11s %-7s %12lu %12lu %5u %-10s %12s %12s %7.2fx %7.2fx\n", t.feature().c_str(),
        t.kind().c_str(), t.row_dtype().empty() ? "float32" : t.row_dtype().c_str(), t.n(), t.m(),
        t.d(), t.hash().c_str(), FormatBytes(t.resident_bytes()).c_str(),
        FormatBytes(t.uncompressed_bytes()).c_str(),
        t.parameters() ? static_cast<double>(t.n() * t.d()) / t.parameters() : 0.0,
        t.resident_bytes() ? static_cast<double>(t.uncompressed_bytes()) / t.resident_bytes()
                           : 0.0);
  }
  std::printf("scorer: MLP %s, dot-product weight %g\n",
              absl::StrJoin(info.mlp_widths(), "-").c_str(), info.dot_weight());
  std::printf("resident bytes:                %s (%lu)\n",
              FormatBytes(info.resident_bytes()).c_str(), info.resident_bytes());
  std::printf("uncompressed-equivalent bytes: %s (%lu)\n",
              FormatBytes(info.uncompressed_bytes()).c_str(), info.uncompressed_bytes());
  std::printf("embedding compression ratio:   %.2fx (memory ratio %.2fx)\n",
              info.compression_ratio(),
              info.resident_bytes() ? static_cast<double>(info.uncompressed_bytes()) /
                                          static_cast<double>(info.resident_bytes())
                                    : 0.0);
  if (info.ratio_vs_full_id_model() > 0) {
    std::printf("vs the full user-ID model of the same data: %.2fx smaller\n",
                info.ratio_vs_full_id_model());
  }
  std::vector<std::string> keys;
  for (const auto& entry : info.producer()) keys.push_back(entry.first);
  std::sort(keys.begin(), keys.end());
  for (const std::string& key : keys) {
    std::printf("producer.%s: %s\n", key.c_str(), info.producer().at(key).c_str());
  }
}

}  // namespace

int RunInfo(const CallOptions& call, uint64_t model_version, const std::string& model,
            const std::string& version_label) {
  auto stub = v1::Ranker::NewStub(Connect(call, call.target));
  grpc::ClientContext context;
  SetDeadline(call, &context);
  v1::GetModelInfoRequest request;
  request.set_model_version(model_version);
  request.set_model(model);
  request.set_version_label(version_label);
  v1::ModelInfo info;
  grpc::Status status = stub->GetModelInfo(&context, request, &info);
  if (!status.ok()) return Fail(status);
  if (call.json) return PrintJson(info);
  PrintModelInfo(info);
  return 0;
}

int RunHealth(const CallOptions& call, const std::string& service) {
  auto stub = grpc::health::v1::Health::NewStub(Connect(call, call.target));
  grpc::ClientContext context;
  SetDeadline(call, &context);
  grpc::health::v1::HealthCheckRequest request;
  request.set_service(service);
  grpc::health::v1::HealthCheckResponse response;
  grpc::Status status = stub->Check(&context, request, &response);
  if (!status.ok()) return Fail(status);
  if (call.json) {
    PrintJson(response);
  } else {
    std::printf(
        "%s\n",
        grpc::health::v1::HealthCheckResponse::ServingStatus_Name(response.status()).c_str());
  }
  return response.status() == grpc::health::v1::HealthCheckResponse::SERVING ? 0 : 1;
}

}  // namespace ranker
