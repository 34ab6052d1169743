// Opens channels to a ranker-server, in plaintext or over TLS (optionally presenting a client
// certificate for mutual TLS). Shared by every ranker-client command and the load generator.
#ifndef RANKER_CLIENT_CHANNEL_H_
#define RANKER_CLIENT_CHANNEL_H_

#include <grpcpp/grpcpp.h>

#include <memory>
#include <string>

#include "absl/status/statusor.h"

namespace ranker {

struct ClientTlsFiles {
  std::string ca;           // PEM roots that signed the server's certificate; empty = plaintext
  std::string cert;         // PEM client certificate (mutual TLS), with `key`
  std::string key;          // PEM client private key
  std::string server_name;  // expected name in the server certificate; empty = from target
};

// How a channel spreads calls over the addresses its target resolves to (an `ipv4:A:P,B:Q`
// list or a `dns:///name` with several records) and whether Rank is retried.
struct ClientBalancing {
  std::string lb_policy = "pick_first";  // gRPC's default: one address at a time; or round_robin
  int rank_attempts = 3;  // Rank (idempotent) is retried on UNAVAILABLE, up to this many tries,
                          // with gRPC's retry throttling
};

// The gRPC service config for `balancing` (JSON, the same any language's gRPC client accepts),
// or INVALID_ARGUMENT for an unknown policy or attempts outside 1..5 (gRPC caps them at 5).
absl::StatusOr<std::string> ServiceConfigJson(const ClientBalancing& balancing);

// NOT_FOUND for an unreadable file; INVALID_ARGUMENT for cert without key or TLS files without
// a CA.
absl::StatusOr<std::shared_ptr<grpc::ChannelCredentials>> MakeChannelCredentials(
    const ClientTlsFiles& files);

// `target` is any gRPC target: HOST:PORT, ipv4:A:P,B:Q, dns:///name:port.
absl::StatusOr<std::shared_ptr<grpc::Channel>> OpenChannel(
    const std::string& target, const ClientTlsFiles& files, const ClientBalancing& balancing,
    grpc::ChannelArguments args = grpc::ChannelArguments());

// For callers opening many channels: credentials made once by MakeChannelCredentials and a
// service config made once by ServiceConfigJson.
std::shared_ptr<grpc::Channel> OpenChannel(
    const std::string& target, const std::shared_ptr<grpc::ChannelCredentials>& credentials,
    const ClientTlsFiles& files, const std::string& service_config, grpc::ChannelArguments args);

}  // namespace ranker

#endif  // RANKER_CLIENT_CHANNEL_H_
