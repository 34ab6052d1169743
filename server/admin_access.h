// Who may call the admin service (reload, list versions). Callers on the loopback interface
// (or a Unix socket) always may; remote callers only when the server has a token and the call
// carries it as `authorization: Bearer <token>` metadata. Without a configured token, remote
// callers are refused outright, so binding the admin port to a public address by mistake
// exposes nothing.
#ifndef RANKER_SERVER_ADMIN_ACCESS_H_
#define RANKER_SERVER_ADMIN_ACCESS_H_

#include <string>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"

namespace grpc {
class ServerContextBase;
}

namespace ranker {

// True for gRPC peer strings of loopback or Unix-socket callers ("ipv4:127.0.0.1:5000",
// "ipv6:[::1]:5000", "ipv6:%5B::1%5D:5000", "ipv6:[::ffff:127.0.0.1]:5000", "unix:...").
bool IsLoopbackPeer(absl::string_view peer);

class AdminAccess {
 public:
  // An empty token means remote callers are always refused.
  explicit AdminAccess(std::string token) : token_(std::move(token)) {}

  // OK, PERMISSION_DENIED (remote caller, no token configured) or UNAUTHENTICATED (remote
  // caller without the right token).
  absl::Status Authorize(absl::string_view peer, absl::string_view authorization) const;
  absl::Status Authorize(const grpc::ServerContextBase& context) const;

 private:
  std::string token_;
};

}  // namespace ranker

#endif  // RANKER_SERVER_ADMIN_ACCESS_H_
