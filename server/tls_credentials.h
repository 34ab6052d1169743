// Server credentials from PEM files: TLS when a certificate and key are given, mutual TLS when
// a client CA is given too (clients must present a certificate that CA signed).
#ifndef RANKER_SERVER_TLS_CREDENTIALS_H_
#define RANKER_SERVER_TLS_CREDENTIALS_H_

#include <grpcpp/security/server_credentials.h>

#include <memory>
#include <string>

#include "absl/status/statusor.h"

namespace ranker {

struct ServerTlsFiles {
  std::string cert;       // PEM certificate chain; empty (with key empty) = plaintext
  std::string key;        // PEM private key
  std::string client_ca;  // PEM roots for client certificates; empty = no client auth
};

// INVALID_ARGUMENT for an incomplete combination, NOT_FOUND for an unreadable file.
absl::StatusOr<std::shared_ptr<grpc::ServerCredentials>> MakeServerCredentials(
    const ServerTlsFiles& files);

}  // namespace ranker

#endif  // RANKER_SERVER_TLS_CREDENTIALS_H_
