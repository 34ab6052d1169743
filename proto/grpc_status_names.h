// Names of gRPC status codes ("INVALID_ARGUMENT"), for messages people read.
#ifndef RANKER_PROTO_GRPC_STATUS_NAMES_H_
#define RANKER_PROTO_GRPC_STATUS_NAMES_H_

#include <grpcpp/support/status.h>

namespace ranker {

inline const char* StatusCodeName(grpc::StatusCode code) {
  static constexpr const char* kNames[] = {"OK",
                                           "CANCELLED",
                                           "UNKNOWN",
                                           "INVALID_ARGUMENT",
                                           "DEADLINE_EXCEEDED",
                                           "NOT_FOUND",
                                           "ALREADY_EXISTS",
                                           "PERMISSION_DENIED",
                                           "RESOURCE_EXHAUSTED",
                                           "FAILED_PRECONDITION",
                                           "ABORTED",
                                           "OUT_OF_RANGE",
                                           "UNIMPLEMENTED",
                                           "INTERNAL",
                                           "UNAVAILABLE",
                                           "DATA_LOSS",
                                           "UNAUTHENTICATED"};
  const int index = static_cast<int>(code);
  return index >= 0 && index < 17 ? kNames[index] : "UNKNOWN_CODE";
}

}  // namespace ranker

#endif  // RANKER_PROTO_GRPC_STATUS_NAMES_H_
