#include "client/channel.h"

#include "absl/strings/str_cat.h"
#include "common/files.h"

namespace ranker {
namespace {

absl::StatusOr<std::string> ReadFile(const std::string& path, const char* flag) {
  return ReadFileToString(path, absl::StrCat(flag, " file"));
}

}  // namespace

absl::StatusOr<std::shared_ptr<grpc::ChannelCredentials>> MakeChannelCredentials(
    const ClientTlsFiles& files) {
  if (files.ca.empty()) {
    if (!files.cert.empty() || !files.key.empty()) {
      return absl::InvalidArgumentError("--tls_cert/--tls_key need --tls_ca");
    }
    return grpc::InsecureChannelCredentials();
  }
  if (files.cert.empty() != files.key.empty()) {
    return absl::InvalidArgumentError("--tls_cert and --tls_key must be given together");
  }
  grpc::SslCredentialsOptions options;
  absl::StatusOr<std::string> roots = ReadFile(files.ca, "--tls_ca");
  if (!roots.ok()) return roots.status();
  options.pem_root_certs = *std::move(roots);
  if (!files.cert.empty()) {
    absl::StatusOr<std::string> cert = ReadFile(files.cert, "--tls_cert");
    if (!cert.ok()) return cert.status();
    absl::StatusOr<std::string> key = ReadFile(files.key, "--tls_key");
    if (!key.ok()) return key.status();
    options.pem_cert_chain = *std::move(cert);
    options.pem_private_key = *std::move(key);
  }
  return grpc::SslCredentials(options);
}

absl::StatusOr<std::shared_ptr<grpc::Channel>> OpenChannel(const std::string& target,
                                                           const ClientTlsFiles& files,
                                                           grpc::ChannelArguments args) {
  absl::StatusOr<std::shared_ptr<grpc::ChannelCredentials>> credentials =
      MakeChannelCredentials(files);
  if (!credentials.ok()) return credentials.status();
  return OpenChannel(target, *credentials, files, std::move(args));
}

std::shared_ptr<grpc::Channel> OpenChannel(
    const std::string& target, const std::shared_ptr<grpc::ChannelCredentials>& credentials,
    const ClientTlsFiles& files, grpc::ChannelArguments args) {
  if (!files.server_name.empty()) args.SetSslTargetNameOverride(files.server_name);
  return grpc::CreateCustomChannel(target, credentials, args);
}

}  // namespace ranker
