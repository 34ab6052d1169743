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

// NOT_FOUND for an unreadable file; INVALID_ARGUMENT for cert without key or TLS files without
// a CA.
absl::StatusOr<std::shared_ptr<grpc::ChannelCredentials>> MakeChannelCredentials(
    const ClientTlsFiles& files);

absl::StatusOr<std::shared_ptr<grpc::Channel>> OpenChannel(
    const std::string& target, const ClientTlsFiles& files,
    grpc::ChannelArguments args = grpc::ChannelArguments());

// For callers opening many channels: credentials made once by MakeChannelCredentials.
std::shared_ptr<grpc::Channel> OpenChannel(
    const std::string& target, const std::shared_ptr<grpc::ChannelCredentials>& credentials,
    const ClientTlsFiles& files, grpc::ChannelArguments args);

}  // namespace ranker

#endif  // RANKER_CLIENT_CHANNEL_H_
