#include "server/ranker_server.h"

#include <grpcpp/ext/proto_server_reflection_plugin.h>
#include <grpcpp/health_check_service_interface.h>
#include <malloc.h>
#include <signal.h>

#include <algorithm>
#include <cstdio>

#include "absl/strings/str_cat.h"
#include "common/log.h"
#include "common/status_macros.h"
#include "events/jetstream_event_log.h"
#include "events/local_event_log.h"
#include "server/model_config.h"
#include "server/model_memory.h"

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
  // Fixed thresholds above the size of RocksDB's read buffers (one 4 MiB tensor chunk each by
  // default): they come from the heap and the same memory serves read after read, where a
  // mapping per read faulted in every byte twice and halved the load rate (measured with perf).
  // glibc's default thresholds adapt upwards as big buffers are freed, after which 20 reloads
  // left ~9 MiB of heap behind (ReloadMemoryTest). Tensors have their own mappings either way
  // (AlignedBuffer), so a freed model goes back to the system at once.
  mallopt(M_MMAP_THRESHOLD, 16 << 20);
  mallopt(M_TRIM_THRESHOLD, 8 << 20);
  config::ModelConfigList models = SingleStoreConfig(config_.store_path);
  if (!config_.model_config_path.empty()) {
    absl::StatusOr<config::ModelConfigList> read = ReadModelConfig(config_.model_config_path);
    if (!read.ok()) return read.status();
    models = *std::move(read);
    for (const config::ModelConfig& model : models.models()) {
      if (model.name() == DefaultModelName(models)) default_store_ = model.store();
    }
  } else {
    default_store_ = config_.store_path;
  }
  default_model_ = DefaultModelName(models);
  // Before anything loads: a config over the memory limit starts nothing.
  if (absl::Status status = CheckMemory(models); !status.ok()) return status;
  if (absl::Status status = OpenHistories(); !status.ok()) return status;
  if (!config_.exposures.dir.empty()) {
    ExposureLogOptions options = config_.exposures;
    std::string where = options.dir;
    if (!config_.nats_url.empty()) {  // a fleet: the exposure stream next to the event stream
      absl::StatusOr<std::unique_ptr<JetStreamConnection>> stream =
          JetStreamConnection::Connect(ExposureStreamOptions(config_.nats_url));
      if (!stream.ok()) return stream.status();
      exposure_stream_ = *std::move(stream);
      options.publish = PublishExposuresTo(exposure_stream_.get());
      where = absl::StrCat("stream ", kExposureStream, " at ", config_.nats_url);
    }
    absl::StatusOr<std::unique_ptr<ExposureLog>> exposures = ExposureLog::Open(options);
    if (!exposures.ok()) return exposures.status();
    exposure_log_ = *std::move(exposures);
    exposure_metrics_ = std::make_shared<ExposureMetrics>(exposure_log_.get());
    LogInfo("exposure log: ", where, ", sampling ", options.sample_rate * 100,
            "% of Rank responses");
  }
  absl::StatusOr<std::unique_ptr<ModelRegistry>> registry = ModelRegistry::Create(
      models, [this](const config::ModelConfig& model) { return OpenModel(model); }, &metrics_);
  if (!registry.ok()) return registry.status();
  registry_ = *std::move(registry);
  manager_ = registry_->DefaultManager();
  if (absl::Status status = StartMetrics(); !status.ok()) return status;
  if (absl::Status status = StartListeners(); !status.ok()) return status;
  {
    MutexLock lock(&health_mu_);
    health_follows_model_ = true;
  }
  UpdateHealth();
  // Last, so that whoever waits for these lines finds health already set.
  AnnounceListeners();
  return absl::OkStatus();
}

absl::Status RankerServer::OpenHistories() {
  histories_ = std::make_unique<StoredHistories>(default_store_, config_.history_cache_bytes);
  if (absl::Status status = histories_->Refresh(); !status.ok()) {
    LogWarning("no stored histories in the model store (retried at every poll): ",
               status.message());
  }
  if (config_.histories_path.empty()) return absl::OkStatus();
  StoreOptions options;
  options.create_if_missing = true;
  absl::StatusOr<std::unique_ptr<HistoryStore>> database =
      HistoryStore::OpenWriter(config_.histories_path, options, config_.history_cache_bytes);
  if (!database.ok()) {
    const std::string why = absl::StrCat(
        "cannot open the history database (is another server "
        "using it?): ",
        database.status().message());
    if (config_.histories_path_given) return absl::Status(database.status().code(), why);
    // The default path sits beside the store, which older deployments mount read-only: serve as
    // before, without Record, rather than not at all.
    LogWarning(why, "; serving without one (no Events service): give --histories DIR");
    return absl::OkStatus();
  }
  histories_->AttachDatabase(*std::move(database));
  const auto seed_from = [histories = histories_.get()] { return histories->store_histories(); };
  if (!config_.nats_url.empty()) {
    JetStreamOptions stream = config_.jetstream;
    stream.url = config_.nats_url;
    stream.max_msgs_per_subject = static_cast<int64_t>(config_.history_cap);
    stream.duplicate_window = config_.dedupe_window;
    ASSIGN_OR_RETURN(jetstream_, JetStreamConnection::Connect(stream));
    StreamApplierOptions applier_options;
    applier_options.history_cap = config_.history_cap;
    applier_options.max_items_per_message = config_.record_limits.max_interactions;
    applier_options.max_future = config_.record_limits.max_future;
    applier_options.linger = config_.event_apply_linger;
    stream_applier_ = std::make_unique<StreamApplier>(jetstream_.get(), histories_->database(),
                                                      seed_from, &event_metrics_, applier_options);
    RETURN_IF_ERROR(stream_applier_->Start());
    event_log_ = std::make_unique<JetStreamEventLog>(jetstream_.get(), stream_applier_.get());
    LogInfo("histories: ", config_.histories_path, ", applied from the event stream ",
            stream.stream, " at ", stream.url, " (Record publishes there)");
    return absl::OkStatus();
  }
  LocalEventLogOptions log_options;
  log_options.history_cap = config_.history_cap;
  log_options.dedupe_window = config_.dedupe_window;
  event_log_ = std::make_unique<LocalEventLog>(
      histories_->database(),
      [histories = histories_.get()] { return histories->store_histories(); }, log_options);
  LogInfo("histories: ", config_.histories_path, " (Record applies here; the model store's ",
          "history family serves users not in it)");
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
  exposer_->RegisterCollectable(event_metrics_.collectable());
  if (exposure_metrics_ != nullptr) exposer_->RegisterCollectable(exposure_metrics_);
  metrics_port_ = exposer_->GetListeningPorts().empty() ? 0 : exposer_->GetListeningPorts()[0];
  return absl::OkStatus();
}

absl::StatusOr<std::shared_ptr<ModelManager>> RankerServer::OpenModel(
    const config::ModelConfig& model) {
  auto store = SnapshotStore::OpenSecondary(model.store());
  if (!store.ok()) {
    return absl::Status(store.status().code(),
                        absl::StrCat("cannot open the store: ", store.status().ToString()));
  }
  ModelManagerOptions options = config_.manager;
  if (model.version_policy().latest().num_versions() > 0) {
    options.keep_versions = model.version_policy().latest().num_versions();
  }
  if (model.version_policy().has_specific()) {
    const auto& listed = model.version_policy().specific().versions();
    options.only_versions.assign(listed.begin(), listed.end());
    std::sort(options.only_versions.begin(), options.only_versions.end());
    options.only_versions.erase(
        std::unique(options.only_versions.begin(), options.only_versions.end()),
        options.only_versions.end());
    options.keep_versions = options.only_versions.size();
  }
  const bool is_default = model.name() == default_model_;
  if (is_default && histories_ != nullptr) {
    options.before_poll = [histories = histories_.get()] {
      if (absl::Status status = histories->Refresh(); !status.ok()) {
        // Not yet there is normal for a store without histories; anything else is worth a line.
        if (status.code() != absl::StatusCode::kFailedPrecondition) {
          LogWarning("stored histories: ", status.ToString());
        }
      }
    };
  }
  auto manager = std::make_shared<ModelManager>(*std::move(store), options);
  // Called from the first Poll below too, before manager_ is set: the listener names its
  // manager itself. Every model's versions are in the memory metrics; health and the process's
  // model gauges follow the default model.
  manager->SetListener(
      [this, is_default, name = model.name(), source = manager.get()](const ReloadEvent& event) {
        metrics_.OnModelVersions(name, source->Loaded());
        if (is_default) OnReload(event, *source);
      });
  manager->Poll();  // serve the newest loadable version from the first call, if there is one
  if (manager->Current() == nullptr) {
    LogWarning("model '", model.name(), "': no loadable version in ", model.store(),
               is_default ? " yet: health is NOT_SERVING and Rank returns UNAVAILABLE until one "
                            "is published"
                          : " yet: its Rank calls return UNAVAILABLE until one is published");
  }
  manager->StartWatcher(config_.poll_interval);
  return manager;
}

absl::Status RankerServer::CheckMemory(const config::ModelConfigList& models) const {
  if (config_.memory_limit_bytes == 0) return absl::OkStatus();
  absl::StatusOr<std::vector<ModelMemory>> memory =
      EstimateModelMemory(models, config_.manager.keep_versions);
  if (!memory.ok()) return memory.status();
  return CheckMemoryLimit(*memory, config_.memory_limit_bytes);
}

absl::StatusOr<std::vector<std::string>> RankerServer::ApplyModelConfig() {
  if (config_.model_config_path.empty()) {
    return absl::FailedPreconditionError(
        "the server was started without --model_config: there is no config to read again");
  }
  // SIGHUP (the signal thread) and the admin call (its reload thread) may both apply: one at a
  // time, so the metrics' cleanup of one cannot undo what the other applied.
  MutexLock lock(&config_mu_);
  ASSIGN_OR_RETURN(config::ModelConfigList models, ReadModelConfig(config_.model_config_path));
  RETURN_IF_ERROR(CheckMemory(models));
  std::vector<std::string> before;
  for (const auto& served : registry_->Models()) before.push_back(served->config.name());
  RETURN_IF_ERROR(registry_->Apply(models));
  std::vector<std::string> now;
  for (const config::ModelConfig& model : models.models()) now.push_back(model.name());
  for (const std::string& name : before) {  // a removed model's series go with it
    if (std::find(now.begin(), now.end(), name) == now.end()) metrics_.OnModelVersions(name, {});
  }
  // A model moved to another store (a new manager) has new versions under its name.
  for (const auto& served : registry_->Models()) {
    metrics_.OnModelVersions(served->config.name(), served->manager->Loaded());
  }
  LogInfo("model config ", config_.model_config_path, " applied: ", now.size(), " models");
  return now;
}

void RankerServer::ReloadConfig() {
  if (!config_.model_config_path.empty()) {
    const absl::Status applied = ApplyModelConfig().status();
    if (!applied.ok()) {
      LogError("model config ", config_.model_config_path,
               " refused, the running one stays: ", applied.ToString());
    }
  }
  for (const auto& served : registry_->Models()) served->manager->RequestPoll();
}

absl::Status RankerServer::StartListeners() {
  rank_workers_ = std::make_unique<RankWorkers>(config_.rank_threads);
  ranker_service_ = std::make_unique<RankerService>(registry_.get(), config_.limits, &metrics_,
                                                    histories_.get(), rank_workers_.get());
  ranker_service_->set_exposure_log(exposure_log_.get());
  admin_service_ = std::make_unique<AdminService>(manager_.get(), registry_.get(), &metrics_,
                                                  AdminAccess(config_.admin_token));
  admin_service_->set_config_reloader([this] {
    absl::StatusOr<std::vector<std::string>> models = ApplyModelConfig();
    if (models.ok()) {
      for (const auto& served : registry_->Models()) served->manager->RequestPoll();
    }
    return models;
  });
  grpc::EnableDefaultHealthCheckService(true);
  grpc::reflection::InitProtoReflectionServerBuilderPlugin();
  grpc::ServerBuilder builder;
  builder.AddListeningPort(config_.listen, config_.credentials, &port_);
  builder.RegisterService(ranker_service_.get());
  if (event_log_ != nullptr) {
    record_workers_ = std::make_unique<RankWorkers>(config_.record_threads);
    events_service_ = std::make_unique<EventsService>(
        event_log_.get(), config_.record_limits, &metrics_, &event_metrics_, record_workers_.get());
    builder.RegisterService(events_service_.get());
  }
  // Each id (candidates, exclusions, history) costs at most 11 bytes on the wire, an
  // interaction at most 36 (two ids, a time, tags and lengths); leave room for the rest.
  const uint64_t rank_bytes =
      (2 * uint64_t{config_.limits.max_candidates} + config_.limits.max_history_ids) * 11;
  const uint64_t record_bytes = uint64_t{config_.record_limits.max_interactions} * 36 +
                                config_.record_limits.max_request_id_bytes;
  builder.SetMaxReceiveMessageSize(
      static_cast<int>(std::min<uint64_t>(INT32_MAX, std::max(rank_bytes, record_bytes) + 4096)));
  grpc::ResourceQuota quota("ranker");
  quota.SetMaxThreads(static_cast<int>(std::max<uint32_t>(2, config_.max_threads)));
  builder.SetResourceQuota(quota);
  if (config_.max_connection_age > absl::ZeroDuration()) {
    // gRPC adds +-10% jitter to the age, so a fleet's clients do not all reconnect at once.
    builder.AddChannelArgument(GRPC_ARG_MAX_CONNECTION_AGE_MS,
                               static_cast<int>(absl::ToInt64Milliseconds(
                                   std::min(config_.max_connection_age, absl::Hours(24 * 20)))));
    builder.AddChannelArgument(GRPC_ARG_MAX_CONNECTION_AGE_GRACE_MS,
                               static_cast<int>(absl::ToInt64Milliseconds(
                                   std::min(config_.shutdown_grace, absl::Hours(24 * 20)))));
  }
  server_ = builder.BuildAndStart();
  if (server_ == nullptr || port_ == 0) {
    return absl::UnavailableError(absl::StrCat("cannot listen on ", config_.listen));
  }
  if (!config_.admin_listen.empty()) {
    grpc::ServerBuilder admin_builder;
    admin_builder.AddListeningPort(config_.admin_listen, config_.credentials, &admin_port_);
    admin_builder.RegisterService(admin_service_.get());
    admin_builder.SetResourceQuota(quota);
    admin_server_ = admin_builder.BuildAndStart();
    if (admin_server_ == nullptr || admin_port_ == 0) {
      return absl::UnavailableError(
          absl::StrCat("cannot listen on ", config_.admin_listen, " (admin)"));
    }
  }
  return absl::OkStatus();
}

void RankerServer::AnnounceListeners() const {
  const std::string host = config_.listen.substr(0, config_.listen.rfind(':'));
  std::shared_ptr<const Model> current = manager_->Current();
  LogInfo("ranker-server listening on ", host, ":", port_,
          admin_server_ ? absl::StrCat(", admin on port ", admin_port_) : std::string(),
          ", serving version ", current ? current->version() : 0);
  // Machine-readable lines for scripts and tests that start the server on port 0.
  if (admin_server_) std::printf("admin listening on port %d\n", admin_port_);
  if (exposer_) std::printf("metrics listening on port %d\n", metrics_port_);
  std::printf("listening on %s:%d\n", host.c_str(), port_);
  std::fflush(stdout);
}

// The one reload listener: metrics always, health while the server runs.
void RankerServer::OnReload(const ReloadEvent& event, const ModelManager& manager) {
  metrics_.OnReload(event, manager.Loaded(), manager.Current().get());
  UpdateHealth();
}

void RankerServer::UpdateHealth() {
  MutexLock lock(&health_mu_);
  if (!health_follows_model_ || server_ == nullptr) return;
  grpc::HealthCheckServiceInterface* health = server_->GetHealthCheckService();
  if (health == nullptr) return;
  const bool serving = manager_->Current() != nullptr;
  health->SetServingStatus(serving);
  health->SetServingStatus(v1::Ranker::service_full_name(), serving);
}

void RankerServer::Run() {
  const sigset_t signals = HandledSignals();
  for (;;) {
    int signal_number = 0;
    if (sigwait(&signals, &signal_number) != 0) continue;
    if (signal_number == SIGHUP) {
      LogInfo("SIGHUP: reading the model config (if any) and polling the stores");
      ReloadConfig();
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
  {
    // From here on a reload cannot set health back to SERVING.
    MutexLock lock(&health_mu_);
    health_follows_model_ = false;
    if (server_ != nullptr && server_->GetHealthCheckService() != nullptr) {
      server_->GetHealthCheckService()->SetServingStatus(false);
      server_->GetHealthCheckService()->SetServingStatus(v1::Ranker::service_full_name(), false);
    }
  }
  const auto deadline =
      std::chrono::system_clock::now() + absl::ToChronoSeconds(config_.shutdown_grace);
  if (server_) server_->Shutdown(deadline);
  if (admin_server_) admin_server_->Shutdown(deadline);
  if (registry_) registry_->StopWatchers();
}

}  // namespace ranker
