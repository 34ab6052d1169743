#include "server/admin_access.h"

#include <arpa/inet.h>
#include <grpcpp/server_context.h>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/strip.h"

namespace ranker {
namespace {

// Compares in time independent of where the strings differ, so a remote caller cannot find the
// token byte by byte from response times (the length is not secret).
bool ConstantTimeEquals(absl::string_view a, absl::string_view b) {
  if (a.size() != b.size()) return false;
  unsigned char difference = 0;
  for (size_t i = 0; i < a.size(); ++i) {
    difference |= static_cast<unsigned char>(a[i] ^ b[i]);
  }
  return difference == 0;
}

bool IsLoopbackIpv4(const std::string& host) {
  in_addr address{};
  return inet_pton(AF_INET, host.c_str(), &address) == 1 && (ntohl(address.s_addr) >> 24) == 127;
}

}  // namespace

bool IsLoopbackPeer(absl::string_view peer) {
  if (absl::StartsWith(peer, "unix:") || absl::StartsWith(peer, "unix-abstract:")) return true;
  if (absl::ConsumePrefix(&peer, "ipv4:")) {
    const size_t colon = peer.rfind(':');
    return colon != absl::string_view::npos && IsLoopbackIpv4(std::string(peer.substr(0, colon)));
  }
  if (!absl::ConsumePrefix(&peer, "ipv6:")) return false;
  // gRPC writes IPv6 peers as "[addr]:port", URI-escaped in some versions.
  const std::string unescaped =
      absl::StrReplaceAll(peer, {{"%5B", "["}, {"%5D", "]"}, {"%5b", "["}, {"%5d", "]"}});
  const size_t close = unescaped.find(']');
  if (unescaped.empty() || unescaped[0] != '[' || close == std::string::npos) return false;
  std::string host = unescaped.substr(1, close - 1);
  if (const size_t zone = host.find('%'); zone != std::string::npos) host.resize(zone);
  in6_addr address{};
  if (inet_pton(AF_INET6, host.c_str(), &address) != 1) return false;
  if (IN6_IS_ADDR_LOOPBACK(&address)) return true;
  if (IN6_IS_ADDR_V4MAPPED(&address)) return address.s6_addr[12] == 127;
  return false;
}

absl::Status AdminAccess::Authorize(absl::string_view peer, absl::string_view authorization) const {
  if (IsLoopbackPeer(peer)) return absl::OkStatus();
  if (token_.empty()) {
    return absl::PermissionDeniedError(
        absl::StrCat("admin calls from remote peers are refused (", peer,
                     "); start the server with --admin_token_file to allow them with a token"));
  }
  if (!absl::ConsumePrefix(&authorization, "Bearer ") ||
      !ConstantTimeEquals(authorization, token_)) {
    return absl::UnauthenticatedError(
        "admin calls from remote peers need metadata 'authorization: Bearer <token>' with the "
        "server's admin token");
  }
  return absl::OkStatus();
}

absl::Status AdminAccess::Authorize(const grpc::ServerContextBase& context) const {
  absl::string_view authorization;
  const auto& metadata = context.client_metadata();
  if (auto it = metadata.find("authorization"); it != metadata.end()) {
    authorization = absl::string_view(it->second.data(), it->second.size());
  }
  return Authorize(context.peer(), authorization);
}

}  // namespace ranker
