// gRPC status helpers: absl::Status -> grpc::Status at the RPC edge (the codes share
// numbering), and the codes' names ("INVALID_ARGUMENT") for messages people read and metric
// labels. kGrpcStatusCodeCount is the one place that knows how many codes there are (0..16).
#ifndef RANKER_COMMON_GRPC_STATUS_H_
#define RANKER_COMMON_GRPC_STATUS_H_

#include <grpcpp/support/status.h>

#include <array>
#include <string>

#include "absl/status/status.h"

namespace ranker {

inline constexpr std::array<const char*, 17> kGrpcStatusCodeNames = {
    "OK",        "CANCELLED",      "UNKNOWN",           "INVALID_ARGUMENT",   "DEADLINE_EXCEEDED",
    "NOT_FOUND", "ALREADY_EXISTS", "PERMISSION_DENIED", "RESOURCE_EXHAUSTED", "FAILED_PRECONDITION",
    "ABORTED",   "OUT_OF_RANGE",   "UNIMPLEMENTED",     "INTERNAL",           "UNAVAILABLE",
    "DATA_LOSS", "UNAUTHENTICATED"};
inline constexpr int kGrpcStatusCodeCount = static_cast<int>(kGrpcStatusCodeNames.size());
static_assert(grpc::StatusCode::UNAUTHENTICATED == kGrpcStatusCodeCount - 1);

// "UNKNOWN_CODE" for values outside 0..16.
inline const char* StatusCodeName(grpc::StatusCode code) {
  const int index = static_cast<int>(code);
  return index >= 0 && index < kGrpcStatusCodeCount ? kGrpcStatusCodeNames[index] : "UNKNOWN_CODE";
}

inline grpc::Status ToGrpcStatus(const absl::Status& status) {
  if (status.ok()) return grpc::Status::OK;
  return grpc::Status(static_cast<grpc::StatusCode>(status.code()), std::string(status.message()));
}

}  // namespace ranker

#endif  // RANKER_COMMON_GRPC_STATUS_H_
