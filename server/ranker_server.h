// The ranker-server process, wired: the store and its ModelManager, metrics and their HTTP
// exposer, the Ranker service (with health and reflection) and the admin service on their
// listeners. main() parses flags into a ServerConfig and calls Start, then Run.
// Not thread-safe: one thread drives Start, Run and the destructor.
#ifndef RANKER_SERVER_RANKER_SERVER_H_
#define RANKER_SERVER_RANKER_SERVER_H_

#include <grpcpp/grpcpp.h>
#include <prometheus/exposer.h>

#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "common/mutex.h"
#include "events/event_log.h"
#include "events/jetstream.h"
#include "events/record_validation.h"
#include "events/stream_applier.h"
#include "exposures/exposure_log.h"
#include "exposures/exposure_stream.h"
#include "server/admin_service.h"
#include "server/event_metrics.h"
#include "server/events_service.h"
#include "server/exposure_metrics.h"
#include "server/model_manager.h"
#include "server/model_registry.h"
#include "server/ranker_service.h"
#include "server/server_metrics.h"
#include "server/stored_histories.h"

namespace ranker {

struct ServerConfig {
  std::string store_path = "var/store";
  // Non-empty: serve the models this file names (proto/model_config.proto, text format) instead
  // of store_path alone; SIGHUP reads it again. The default model's store is then the one whose
  // older history family Rank reads, and it cannot change without a restart.
  std::string model_config_path;
  std::string listen = "0.0.0.0:50051";
  std::string admin_listen = "127.0.0.1:50052";          // empty: no admin service
  std::string metrics_listen = "0.0.0.0:9464";           // empty: no /metrics
  std::shared_ptr<grpc::ServerCredentials> credentials;  // both listeners; never null
  std::string admin_token;                               // empty: remote admin callers are refused
  RankLimits limits;
  ModelManagerOptions manager;
  size_t history_cache_bytes = size_t{64} << 20;  // block cache of the stored histories
  // The server's own history database, which Record calls write (created if missing). Empty:
  // none (no Events service; Rank reads the store's history family only).
  std::string histories_path;
  // Whether histories_path was asked for (an error to open it fails Start) or is the default
  // (the server then runs without it, warning).
  bool histories_path_given = false;
  size_t history_cap = 200;  // distinct items kept per user
  RecordLimits record_limits;
  absl::Duration dedupe_window = absl::Minutes(10);
  // Non-empty: a fleet replica. Record publishes to this NATS JetStream stream and the server
  // applies the whole stream to its history database (events/jetstream.h).
  std::string nats_url;
  absl::Duration event_apply_linger = absl::Milliseconds(20);  // StreamApplierOptions::linger
  JetStreamOptions jetstream;
  // Threads that wait for Record's commits; calls waiting together share one fsync.
  uint32_t record_threads = 8;
  // Threads for heavy Rank calls (RankWorkers; 0 = one per core), and the most threads of the
  // synchronous service (reflection).
  uint32_t rank_threads = 0;
  uint32_t max_threads = 64;
  absl::Duration poll_interval = absl::Seconds(5);
  absl::Duration shutdown_grace = absl::Seconds(10);
  // > 0: Ranker connections are closed (GOAWAY, calls in flight finish) after about this long,
  // so that clients resolving a DNS name for round robin pick up replicas added since.
  absl::Duration max_connection_age = absl::ZeroDuration();
  // > 0: a model config (or the single store) whose models' tensors would take more than this
  // is refused before anything loads, naming the models and their bytes (model_memory.h).
  uint64_t memory_limit_bytes = 0;
  // Sampled Rank responses (exposures/exposure_log.h); an empty dir: no exposure log.
  ExposureLogOptions exposures;
};

class RankerServer {
 public:
  explicit RankerServer(ServerConfig config);
  ~RankerServer();  // stops serving if Run did not

  // Opens the store, loads the newest loadable version (serving starts without one, as
  // NOT_SERVING), then listens. Prints the machine-readable "listening on HOST:PORT" lines.
  // Errors: the store cannot be opened, or a listener cannot bind.
  absl::Status Start();
  // Serves until SIGTERM or SIGINT (SIGHUP polls the store), then lets in-flight calls finish
  // within shutdown_grace. REQUIRES: BlockHandledSignals() ran before any thread started.
  void Run();

  // Blocks SIGTERM, SIGINT and SIGHUP in the calling thread and every thread started after it,
  // so that only Run's sigwait sees them. Call first thing in main.
  static void BlockHandledSignals();

  // The Ranker service's port once Start succeeded (the chosen one for port 0).
  int port() const { return port_; }

 private:
  absl::Status OpenHistories();
  // Opens one configured model's store and manager, polls once, starts its watcher.
  absl::StatusOr<std::shared_ptr<ModelManager>> OpenModel(const config::ModelConfig& model);
  // SIGHUP: the model config again (if any), then every model polls its store.
  void ReloadConfig();
  // Reads --model_config again and applies it (memory limit, then the registry); the models
  // then served. The admin ReloadConfig and SIGHUP both come here.
  absl::StatusOr<std::vector<std::string>> ApplyModelConfig();
  // RESOURCE_EXHAUSTED if `models` would take more than memory_limit_bytes (model_memory.h).
  absl::Status CheckMemory(const config::ModelConfigList& models) const;
  absl::Status StartMetrics();
  absl::Status StartListeners();
  void AnnounceListeners() const;
  void OnReload(const ReloadEvent& event, const ModelManager& manager);
  // Health follows the model once the server runs and until it stops.
  void UpdateHealth();
  void Shutdown();

  const ServerConfig config_;
  ServerMetrics metrics_;
  EventMetrics event_metrics_;
  std::unique_ptr<StoredHistories> histories_;
  std::unique_ptr<JetStreamConnection> jetstream_;        // fleet replicas only
  std::unique_ptr<StreamApplier> stream_applier_;         // fleet replicas only
  std::unique_ptr<EventLog> event_log_;                   // nullptr without a history database
  std::unique_ptr<JetStreamConnection> exposure_stream_;  // fleet replicas only
  std::unique_ptr<ExposureLog> exposure_log_;             // nullptr without one
  std::shared_ptr<ExposureMetrics> exposure_metrics_;
  std::string default_model_, default_store_;  // set by Start from the config
  std::unique_ptr<ModelRegistry> registry_;
  std::shared_ptr<ModelManager> manager_;  // the default model's: health, metrics, admin
  std::unique_ptr<prometheus::Exposer> exposer_;
  // Declared before the servers: calls in flight on the workers finish before they stop.
  std::unique_ptr<RankWorkers> rank_workers_;
  std::unique_ptr<RankerService> ranker_service_;
  std::unique_ptr<AdminService> admin_service_;
  std::unique_ptr<RankWorkers> record_workers_;  // before the service and servers that use it
  std::unique_ptr<EventsService> events_service_;
  std::unique_ptr<grpc::Server> server_;
  std::unique_ptr<grpc::Server> admin_server_;
  int port_ = 0, admin_port_ = 0, metrics_port_ = 0;
  Mutex config_mu_;  // one model config applied at a time (ApplyModelConfig)
  Mutex health_mu_;  // orders health updates from reloads against start and shutdown
  bool health_follows_model_ ABSL_GUARDED_BY(health_mu_) = false;
  bool stopped_ = false;
};

}  // namespace ranker

#endif  // RANKER_SERVER_RANKER_SERVER_H_
