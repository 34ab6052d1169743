#include "client/channel.h"

#include "absl/strings/str_cat.h"
#include "common/files.h"

namespace ranker {
namespace {

absl::StatusOr<std::string> ReadFile(const std::string& path, const char* flag) {
  return ReadFileToString(path, absl::StrCat(flag, " file"));
}

}  // namespace

absl::StatusOr<std::string> ServiceConfigJson(const ClientBalancing& balancing) {
  if (balancing.lb_policy != "pick_first" && balancing.lb_policy != "round_robin") {
    return absl::InvalidArgumentError(
        absl::StrCat("--lb must be pick_first or round_robin, not \"", balancing.lb_policy, "\""));
  }
  if (balancing.rank_attempts < 1 || balancing.rank_attempts > 5) {
    return absl::InvalidArgumentError("--rank_attempts must be 1 to 5");
  }
  std::string config =
      absl::StrCat(R"({"loadBalancingConfig":[{")", balancing.lb_policy, R"(":{}}])");
  if (balancing.rank_attempts > 1) {
    // Only Rank: it has no side effects, so a call a dying replica dropped can go to another.
    absl::StrAppend(&config,
                    R"(,"methodConfig":[{"name":[{"service":"ranker.v1.Ranker","method":"Rank"}],)",
                    R"("retryPolicy":{"maxAttempts":)", balancing.rank_attempts,
                    R"(,"initialBackoff":"0.02s","maxBackoff":"0.5s","backoffMultiplier":2,)",
                    R"("retryableStatusCodes":["UNAVAILABLE"]}}],)",
                    // gRPC's token bucket (gRFC A6): a failed attempt costs a token, a success
                    // returns one, and retries stop below half the bucket. So retries go on
                    // while fewer than half the calls fail (a dying replica's calls in flight,
                    // one replica of three without a model) and stop when most do, after a
                    // burst of ~500 failures: a fleet in trouble is not sent 3x its load.
                    R"("retryThrottling":{"maxTokens":1000,"tokenRatio":1})");
  }
  absl::StrAppend(&config, "}");
  return config;
}

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
                                                           const ClientBalancing& balancing,
                                                           grpc::ChannelArguments args) {
  absl::StatusOr<std::shared_ptr<grpc::ChannelCredentials>> credentials =
      MakeChannelCredentials(files);
  if (!credentials.ok()) return credentials.status();
  absl::StatusOr<std::string> service_config = ServiceConfigJson(balancing);
  if (!service_config.ok()) return service_config.status();
  return OpenChannel(target, *credentials, files, *service_config, std::move(args));
}

std::shared_ptr<grpc::Channel> OpenChannel(
    const std::string& target, const std::shared_ptr<grpc::ChannelCredentials>& credentials,
    const ClientTlsFiles& files, const std::string& service_config, grpc::ChannelArguments args) {
  if (!files.server_name.empty()) args.SetSslTargetNameOverride(files.server_name);
  // The channel's default service config: what the flags asked for.
  args.SetServiceConfigJSON(service_config);
  return grpc::CreateCustomChannel(target, credentials, args);
}

}  // namespace ranker
