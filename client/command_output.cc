#include "client/command_output.h"

#include <google/protobuf/util/json_util.h>

#include <chrono>
#include <cstdio>

#include "absl/time/time.h"
#include "common/grpc_status.h"

namespace ranker {

std::shared_ptr<grpc::Channel> Connect(const CallOptions& call, const std::string& target) {
  return *OpenChannel(target, call.tls, call.balancing);
}

void SetDeadline(const CallOptions& call, grpc::ClientContext* context) {
  context->set_deadline(std::chrono::system_clock::now() +
                        absl::ToChronoMilliseconds(call.timeout));
}

int Fail(const grpc::Status& status) {
  std::fprintf(stderr, "ranker-client: RPC failed: %d (%s): %s\n",
               static_cast<int>(status.error_code()), StatusCodeName(status.error_code()),
               status.error_message().c_str());
  return 1;
}

int PrintJson(const google::protobuf::Message& message, bool one_line) {
  std::string json;
  google::protobuf::util::JsonPrintOptions options;
  options.add_whitespace = !one_line;
  options.always_print_primitive_fields = true;
  options.preserve_proto_field_names = true;
  if (!google::protobuf::util::MessageToJsonString(message, &json, options).ok()) return 1;
  std::printf(one_line ? "%s\n" : "%s", json.c_str());
  return 0;
}

std::string FormatUnixSeconds(int64_t unix_seconds) {
  return absl::FormatTime("%Y-%m-%dT%H:%M:%SZ", absl::FromUnixSeconds(unix_seconds),
                          absl::UTCTimeZone());
}

}  // namespace ranker
