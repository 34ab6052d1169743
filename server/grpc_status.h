// absl::Status -> grpc::Status, used only at the RPC edge. The codes share numbering.
#ifndef RANKER_SERVER_GRPC_STATUS_H_
#define RANKER_SERVER_GRPC_STATUS_H_

#include <grpcpp/support/status.h>

#include <string>

#include "absl/status/status.h"

namespace ranker {

inline grpc::Status ToGrpcStatus(const absl::Status& status) {
  if (status.ok()) return grpc::Status::OK;
  return grpc::Status(static_cast<grpc::StatusCode>(status.code()), std::string(status.message()));
}

}  // namespace ranker

#endif  // RANKER_SERVER_GRPC_STATUS_H_
