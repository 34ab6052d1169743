// ranker-server: serves Rank() over gRPC from the newest model in a snapshot store.
#include <grpcpp/ext/proto_server_reflection_plugin.h>
#include <grpcpp/grpcpp.h>
#include <grpcpp/health_check_service_interface.h>
#include <malloc.h>
#include <prometheus/exposer.h>
#include <signal.h>

#include <cstdio>
#include <memory>
#include <string>
#include <thread>

#include "absl/flags/flag.h"
#include "absl/time/time.h"
#include "common/command_line.h"
#include "server/admin_service.h"
#include "server/log.h"
#include "server/model_manager.h"
#include "server/ranker_service.h"
#include "server/server_metrics.h"
#include "server/tls_credentials.h"

ABSL_FLAG(std::string, store, "var/store", "Snapshot store directory (opened read-only).");
ABSL_FLAG(std::string, listen, "0.0.0.0:50051", "gRPC address for the Ranker service.");
ABSL_FLAG(std::string, admin_listen, "127.0.0.1:50052",
          "gRPC address for the admin service (reload, list versions); empty disables it.");
ABSL_FLAG(uint32_t, max_k, 1000, "Largest k a request may ask for.");
ABSL_FLAG(uint32_t, max_candidates, 10000, "Most candidate ids one request may carry.");
ABSL_FLAG(uint32_t, max_concurrent_ranks, 32,
          "Rank calls scored at once; calls beyond get RESOURCE_EXHAUSTED at once (no queue).");
ABSL_FLAG(std::string, tls_cert, "", "PEM certificate chain: serve TLS (with --tls_key).");
ABSL_FLAG(std::string, tls_key, "", "PEM private key of --tls_cert.");
ABSL_FLAG(std::string, tls_client_ca, "",
          "PEM CA for client certificates: require mutual TLS (needs --tls_cert).");
ABSL_FLAG(std::string, admin_token_file, "",
          "File holding a token that remote admin callers must send as 'authorization: Bearer "
          "TOKEN'; without it the admin service refuses every non-loopback caller.");
ABSL_FLAG(uint32_t, threads, 64,
          "Most threads serving RPCs at once; calls beyond get RESOURCE_EXHAUSTED.");
ABSL_FLAG(absl::Duration, poll_interval, absl::Seconds(5),
          "How often to check the store for a new version (also on SIGHUP and admin Reload).");
ABSL_FLAG(uint32_t, keep_versions, 1,
          "Newest versions kept loaded; older ones can be pinned with model_version.");
ABSL_FLAG(std::string, reload_policy, "availability_preserving",
          "availability_preserving (load new, then drop old) or resource_preserving (drop, "
          "then load: less memory, a gap in service).");
ABSL_FLAG(std::string, unknown_ids, "fallback",
          "fallback: score ids outside the model with the hashed row and count them; "
          "reject: INVALID_ARGUMENT.");
ABSL_FLAG(std::string, metrics_listen, "0.0.0.0:9464",
          "HTTP address for Prometheus metrics at /metrics; empty disables them.");
ABSL_FLAG(absl::Duration, shutdown_grace, absl::Seconds(10),
          "On SIGTERM/SIGINT, how long in-flight calls may run before they are cancelled.");

namespace ranker {
namespace {

constexpr char kUsage[] = R"(ranker-server: serve top-k ranking from MEmCom-compressed models.

Usage: ranker-server [--store DIR] [--listen HOST:PORT] [flags]

Loads the newest complete version in the store (a RocksDB directory written by ranker-store or
ranker-train), serves ranker.v1.Ranker, grpc.health.v1.Health and server reflection, and
follows the store for new versions. SIGHUP polls the store now; SIGTERM or SIGINT stops
accepting calls and lets in-flight calls finish.

TLS: --tls_cert and --tls_key serve TLS on both listeners; add --tls_client_ca to require
client certificates (mutual TLS). The admin service answers loopback callers; remote callers
need --admin_token_file.)";

// Blocks the signals we handle in every thread (call before any thread starts), so that only
// sigwait() in main sees them.
sigset_t BlockHandledSignals() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGHUP);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
  return set;
}

void SetHealth(grpc::Server* server, bool serving) {
  grpc::HealthCheckServiceInterface* health = server->GetHealthCheckService();
  if (health == nullptr) return;
  health->SetServingStatus(serving);
  health->SetServingStatus(v1::Ranker::service_full_name(), serving);
}

int Serve() {
  const sigset_t signals = BlockHandledSignals();
  // Tensors are large, long-lived buffers: give each its own mapping so that freeing an old
  // model returns its memory to the system at once. (glibc's default threshold adapts upwards
  // after the first free, after which tensors land in the heap and fragment it across reloads.)
  mallopt(M_MMAP_THRESHOLD, 1 << 20);

  RankLimits limits;
  limits.max_k = absl::GetFlag(FLAGS_max_k);
  limits.max_candidates = absl::GetFlag(FLAGS_max_candidates);
  limits.max_concurrent = std::max<uint32_t>(1, absl::GetFlag(FLAGS_max_concurrent_ranks));
  const std::string unknown = absl::GetFlag(FLAGS_unknown_ids);
  if (unknown != "fallback" && unknown != "reject") {
    LogError("--unknown_ids must be fallback or reject, got '", unknown, "'");
    return 2;
  }
  limits.unknown_ids = unknown == "reject" ? UnknownIdPolicy::kReject : UnknownIdPolicy::kFallback;
  ModelManagerOptions manager_options;
  manager_options.keep_versions = std::max<uint32_t>(1, absl::GetFlag(FLAGS_keep_versions));
  absl::StatusOr<ReloadPolicy> policy = ParseReloadPolicy(absl::GetFlag(FLAGS_reload_policy));
  if (!policy.ok()) {
    LogError(policy.status().message());
    return 2;
  }
  manager_options.policy = *policy;

  absl::StatusOr<std::shared_ptr<grpc::ServerCredentials>> credentials =
      MakeServerCredentials({absl::GetFlag(FLAGS_tls_cert), absl::GetFlag(FLAGS_tls_key),
                             absl::GetFlag(FLAGS_tls_client_ca)});
  if (!credentials.ok()) {
    LogError(credentials.status().message());
    return 2;
  }
  std::string admin_token;
  if (!absl::GetFlag(FLAGS_admin_token_file).empty()) {
    absl::StatusOr<std::string> token = ReadTokenFile(absl::GetFlag(FLAGS_admin_token_file));
    if (!token.ok()) {
      LogError(token.status().message());
      return 2;
    }
    admin_token = *std::move(token);
  }

  auto store = SnapshotStore::OpenSecondary(absl::GetFlag(FLAGS_store));
  if (!store.ok()) {
    LogError("cannot open the store: ", store.status().ToString());
    return 1;
  }
  ModelManager manager(*std::move(store), manager_options);

  ServerMetrics metrics;
  manager.SetListener([&metrics, &manager](const ReloadEvent& event) {
    metrics.OnReload(event, manager.Loaded(), manager.Current().get());
  });
  manager.Poll();  // serve the newest loadable version from the first call, if there is one
  if (manager.Current() == nullptr) {
    LogWarning("no loadable model in ", absl::GetFlag(FLAGS_store),
               " yet: health is NOT_SERVING and Rank returns UNAVAILABLE until one is published");
  }
  std::unique_ptr<prometheus::Exposer> exposer;
  int metrics_port = 0;
  if (!absl::GetFlag(FLAGS_metrics_listen).empty()) {
    // prometheus-cpp reports a failed bind by throwing; keep that at this edge.
    try {
      exposer = std::make_unique<prometheus::Exposer>(absl::GetFlag(FLAGS_metrics_listen));
    } catch (const std::exception& e) {
      LogError("cannot serve metrics on ", absl::GetFlag(FLAGS_metrics_listen), ": ", e.what());
      return 1;
    }
    for (const auto& collectable : metrics.collectables())
      exposer->RegisterCollectable(collectable);
    metrics_port = exposer->GetListeningPorts().empty() ? 0 : exposer->GetListeningPorts().front();
  }
  RankerService ranker_service(&manager, limits, &metrics);
  AdminService admin_service(&manager, &metrics, AdminAccess(admin_token));

  grpc::EnableDefaultHealthCheckService(true);
  grpc::reflection::InitProtoReflectionServerBuilderPlugin();
  grpc::ServerBuilder builder;
  int port = 0;
  builder.AddListeningPort(absl::GetFlag(FLAGS_listen), *credentials, &port);
  builder.RegisterService(&ranker_service);
  // Each candidate id costs at most 11 bytes on the wire; leave room for the rest.
  builder.SetMaxReceiveMessageSize(
      static_cast<int>(std::min<uint64_t>(INT32_MAX, uint64_t{limits.max_candidates} * 11 + 4096)));
  grpc::ResourceQuota quota("ranker");
  quota.SetMaxThreads(static_cast<int>(std::max<uint32_t>(2, absl::GetFlag(FLAGS_threads))));
  builder.SetResourceQuota(quota);
  std::unique_ptr<grpc::Server> server = builder.BuildAndStart();
  if (server == nullptr || port == 0) {
    LogError("cannot listen on ", absl::GetFlag(FLAGS_listen));
    return 1;
  }
  std::unique_ptr<grpc::Server> admin_server;
  int admin_port = 0;
  if (!absl::GetFlag(FLAGS_admin_listen).empty()) {
    grpc::ServerBuilder admin_builder;
    admin_builder.AddListeningPort(absl::GetFlag(FLAGS_admin_listen), *credentials, &admin_port);
    admin_builder.RegisterService(&admin_service);
    admin_server = admin_builder.BuildAndStart();
    if (admin_server == nullptr || admin_port == 0) {
      LogError("cannot listen on ", absl::GetFlag(FLAGS_admin_listen), " (admin)");
      return 1;
    }
  }
  SetHealth(server.get(), manager.Current() != nullptr);
  manager.SetListener([&server, &manager, &metrics](const ReloadEvent& event) {
    metrics.OnReload(event, manager.Loaded(), manager.Current().get());
    SetHealth(server.get(), manager.Current() != nullptr);
  });
  manager.StartWatcher(absl::GetFlag(FLAGS_poll_interval));

  const std::string host =
      absl::GetFlag(FLAGS_listen).substr(0, absl::GetFlag(FLAGS_listen).rfind(':'));
  LogInfo("ranker-server listening on ", host, ":", port,
          admin_server ? absl::StrCat(", admin on port ", admin_port) : std::string(),
          ", serving version ", manager.Current() ? manager.Current()->version() : 0);
  // Machine-readable lines for scripts and tests that start the server on port 0.
  if (admin_server) std::printf("admin listening on port %d\n", admin_port);
  if (exposer) std::printf("metrics listening on port %d\n", metrics_port);
  std::printf("listening on %s:%d\n", host.c_str(), port);
  std::fflush(stdout);

  for (;;) {
    int signal_number = 0;
    if (sigwait(&signals, &signal_number) != 0) continue;
    if (signal_number == SIGHUP) {
      LogInfo("SIGHUP: polling the store");
      manager.RequestPoll();
      continue;
    }
    LogInfo(signal_number == SIGTERM ? "SIGTERM" : "SIGINT",
            ": shutting down, letting in-flight calls finish");
    break;
  }
  SetHealth(server.get(), false);
  const auto deadline =
      std::chrono::system_clock::now() + absl::ToChronoSeconds(absl::GetFlag(FLAGS_shutdown_grace));
  server->Shutdown(deadline);
  if (admin_server) admin_server->Shutdown(deadline);
  manager.StopWatcher();
  LogInfo("stopped");
  return 0;
}

}  // namespace
}  // namespace ranker

int main(int argc, char** argv) {
  ranker::ParseToolCommandLine(argc, argv, ranker::kUsage, "server_main");
  return ranker::Serve();
}
