#include "server/ranker_server.h"

#include <grpcpp/ext/proto_server_reflection_plugin.h>
#include <grpcpp/health_check_service_interface.h>
#include <malloc.h>
#include <signal.h>

#include <algorithm>
#include <cstdio>

#include "absl/strings/str_cat.h"
#include "server/log.h"

namespace ranker {
namespace {

sigset_t HandledSignals() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGHUP);
  return set;
}

}  // namespace

void RankerServer::BlockHandledSignals() {
  const sigset_t set = HandledSignals();
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
}

RankerServer::RankerServer(ServerConfig config) : config_(std::move(config)) {}

RankerServer::~RankerServer() { Shutdown(); }

absl::Status RankerServer::Start() {
  // Tensors are large, long-lived buffers: give each its own mapping so that freeing an old
  // model returns its memory to the system at once. (glibc's default threshold adapts upwards
  // after the first free, after which tensors land in the heap and fragment it across reloads.)
  mallopt(M_MMAP_THRESHOLD, 1 << 20);
  auto store = SnapshotStore::OpenSecondary(config_.store_path);
  if (!store.ok()) {
    return absl::Status(store.status().code(),
                        absl::StrCat("cannot open the store: ", store.status().ToString()));
  }
  manager_ = std::make_unique<ModelManager>(*std::move(store), config_.manager);
  manager_->SetListener([this](const ReloadEvent& event) { OnReload(event); });
  manager_->Poll();  // serve the newest loadable version from the first call, if there is one
  if (manager_->Current() == nullptr) {
    LogWarning("no loadable model in ", config_.store_path,
               " yet: health is NOT_SERVING and Rank returns UNAVAILABLE until one is published");
  }
  if (absl::Status status = StartMetrics(); !status.ok()) return status;
  if (absl::Status status = StartListeners(); !status.ok()) return status;
  health_target_.store(server_.get());
  SetHealth(manager_->Current() != nullptr);
  manager_->StartWatcher(config_.poll_interval);
  return absl::OkStatus();
}

absl::Status RankerServer::StartMetrics() {
  if (config_.metrics_listen.empty()) return absl::OkStatus();
  // prometheus-cpp reports a failed bind by throwing; keep that at this edge.
  try {
    exposer_ = std::make_unique<prometheus::Exposer>(config_.metrics_listen);
  } catch (const std::exception& e) {
    return absl::UnavailableError(
        absl::StrCat("cannot serve metrics on ", config_.metrics_listen, ": ", e.what()));
  }
  for (const auto& collectable : metrics_.collectables())
    exposer_->RegisterCollectable(collectable);
  const int port = exposer_->GetListeningPorts().empty() ? 0 : exposer_->GetListeningPorts()[0];
  std::printf("metrics listening on port %d\n", port);
  return absl::OkStatus();
}

absl::Status RankerServer::StartListeners() {
  ranker_service_ = std::make_unique<RankerService>(manager_.get(), config_.limits, &metrics_);
  admin_service_ =
      std::make_unique<AdminService>(manager_.get(), &metrics_, AdminAccess(config_.admin_token));
  grpc::EnableDefaultHealthCheckService(true);
  grpc::reflection::InitProtoReflectionServerBuilderPlugin();
  grpc::ServerBuilder builder;
  int port = 0;
  builder.AddListeningPort(config_.listen, config_.credentials, &port);
  builder.RegisterService(ranker_service_.get());
  // Each candidate id costs at most 11 bytes on the wire; leave room for the rest.
  builder.SetMaxReceiveMessageSize(static_cast<int>(
      std::min<uint64_t>(INT32_MAX, uint64_t{config_.limits.max_candidates} * 11 + 4096)));
  grpc::ResourceQuota quota("ranker");
  quota.SetMaxThreads(static_cast<int>(std::max<uint32_t>(2, config_.max_threads)));
  builder.SetResourceQuota(quota);
  server_ = builder.BuildAndStart();
  if (server_ == nullptr || port == 0) {
    return absl::UnavailableError(absl::StrCat("cannot listen on ", config_.listen));
  }
  int admin_port = 0;
  if (!config_.admin_listen.empty()) {
    grpc::ServerBuilder admin_builder;
    admin_builder.AddListeningPort(config_.admin_listen, config_.credentials, &admin_port);
    admin_builder.RegisterService(admin_service_.get());
    admin_server_ = admin_builder.BuildAndStart();
    if (admin_server_ == nullptr || admin_port == 0) {
      return absl::UnavailableError(
          absl::StrCat("cannot listen on ", config_.admin_listen, " (admin)"));
    }
  }
  const std::string host = config_.listen.substr(0, config_.listen.rfind(':'));
  std::shared_ptr<const Model> current = manager_->Current();
  LogInfo("ranker-server listening on ", host, ":", port,
          admin_server_ ? absl::StrCat(", admin on port ", admin_port) : std::string(),
          ", serving version ", current ? current->version() : 0);
  // Machine-readable lines for scripts and tests that start the server on port 0.
  if (admin_server_) std::printf("admin listening on port %d\n", admin_port);
  std::printf("listening on %s:%d\n", host.c_str(), port);
  std::fflush(stdout);
  return absl::OkStatus();
}

// The one reload listener: metrics always, health once the server runs.
void RankerServer::OnReload(const ReloadEvent& event) {
  metrics_.OnReload(event, manager_->Loaded(), manager_->Current().get());
  if (health_target_.load() != nullptr) SetHealth(manager_->Current() != nullptr);
}

void RankerServer::SetHealth(bool serving) {
  grpc::Server* server = health_target_.load();
  if (server == nullptr) return;
  grpc::HealthCheckServiceInterface* health = server->GetHealthCheckService();
  if (health == nullptr) return;
  health->SetServingStatus(serving);
  health->SetServingStatus(v1::Ranker::service_full_name(), serving);
}

void RankerServer::Run() {
  const sigset_t signals = HandledSignals();
  for (;;) {
    int signal_number = 0;
    if (sigwait(&signals, &signal_number) != 0) continue;
    if (signal_number == SIGHUP) {
      LogInfo("SIGHUP: polling the store");
      manager_->RequestPoll();
      continue;
    }
    LogInfo(signal_number == SIGTERM ? "SIGTERM" : "SIGINT",
            ": shutting down, letting in-flight calls finish");
    break;
  }
  Shutdown();
  LogInfo("stopped");
}

void RankerServer::Shutdown() {
  if (stopped_) return;
  stopped_ = true;
  SetHealth(false);
  health_target_.store(nullptr);
  const auto deadline =
      std::chrono::system_clock::now() + absl::ToChronoSeconds(config_.shutdown_grace);
  if (server_) server_->Shutdown(deadline);
  if (admin_server_) admin_server_->Shutdown(deadline);
  if (manager_) manager_->StopWatcher();
}

}  // namespace ranker
