// ranker-server: serves Rank() over gRPC from the newest model in a snapshot store.
// Flag parsing only: the flags become a ServerConfig, and RankerServer does the rest.
#include <algorithm>
#include <string>

#include "absl/flags/flag.h"
#include "absl/strings/numbers.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "common/command_line.h"
#include "common/files.h"
#include "common/log.h"
#include "common/status_macros.h"
#include "server/model_config.h"
#include "server/ranker_server.h"
#include "server/tls_credentials.h"

ABSL_FLAG(std::string, store, "var/store", "Snapshot store directory (opened read-only).");
ABSL_FLAG(std::string, model_config, "",
          "Serve several models: a model config file (protobuf text format, "
          "proto/model_config.proto: names, stores, labels, traffic splits) instead of --store. "
          "SIGHUP reads it again; a config that fails a check is refused and the running one "
          "stays.");
ABSL_FLAG(std::string, listen, "0.0.0.0:50051", "gRPC address for the Ranker service.");
ABSL_FLAG(std::string, admin_listen, "127.0.0.1:50052",
          "gRPC address for the admin service (reload, list versions); empty disables it.");
ABSL_FLAG(uint32_t, max_k, 1000, "Largest k a request may ask for.");
ABSL_FLAG(uint32_t, max_candidates, 10000,
          "Most candidate ids (and, separately, exclude ids) one request may carry.");
ABSL_FLAG(uint32_t, max_history_ids, 1000, "Most history ids one request may carry.");
ABSL_FLAG(uint32_t, max_history, 200,
          "History models pool the user's newest this many items (request or stored; 0 = all). "
          "Older ones are still excluded from the results.");
ABSL_FLAG(uint32_t, retrieve_n, 500,
          "Two stages when a request's candidates (the whole catalogue when none are given) "
          "number more than this: retrieval keeps the best N (at least k) by the dot-product "
          "term, computed in the compressed domain, and the RankNet scorer ranks only those. "
          "Requests may set their own (RankRequest.retrieve_n). 0: one stage, the scorer over "
          "every candidate.");
ABSL_FLAG(uint32_t, max_retrieve_n, 100000, "Largest retrieve_n a request may ask for.");
ABSL_FLAG(uint32_t, history_cache_mb, 64,
          "Block cache for the stored user histories read per request, MiB (0 = RocksDB's "
          "default, 8 MiB).");
ABSL_FLAG(uint32_t, max_concurrent_ranks, 32,
          "Rank calls scored at once; calls beyond get RESOURCE_EXHAUSTED at once (no queue).");
ABSL_FLAG(std::string, tls_cert, "", "PEM certificate chain: serve TLS (with --tls_key).");
ABSL_FLAG(std::string, tls_key, "", "PEM private key of --tls_cert.");
ABSL_FLAG(std::string, tls_client_ca, "",
          "PEM CA for client certificates: require mutual TLS (needs --tls_cert).");
ABSL_FLAG(std::string, admin_token_file, "",
          "File holding a token that remote admin callers must send as 'authorization: Bearer "
          "TOKEN'; without it the admin service refuses every non-loopback caller.");
ABSL_FLAG(uint32_t, rank_threads, 0,
          "Threads for heavy Rank calls (no candidates, i.e. the whole catalogue, or more than "
          "1000); lighter calls run on gRPC's callback threads. 0: one per core.");
ABSL_FLAG(uint32_t, threads, 64,
          "Most threads of the synchronous service (reflection); calls beyond get "
          "RESOURCE_EXHAUSTED.");
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
ABSL_FLAG(absl::Duration, max_connection_age, absl::ZeroDuration(),
          "Close each client connection after about this long (gracefully: calls in flight "
          "finish), so clients balancing over a DNS name resolve it again and find new "
          "replicas (0 = never).");
ABSL_FLAG(std::string, histories, "",
          "The server's own history database (a directory, created if missing), which "
          "ranker.v1.Events/Record writes and Rank reads first; the store's history family "
          "serves users not in it. Default: the store's path + \"-histories\"; \"none\": no "
          "database and no Events service.");
ABSL_FLAG(uint32_t, history_cap, 200, "Distinct items kept per user by Record.");
ABSL_FLAG(uint32_t, max_record_interactions, 10000,
          "Most interactions one Record request may carry.");
ABSL_FLAG(absl::Duration, record_max_future, absl::Minutes(5),
          "Record refuses interactions stamped later than now plus this.");
ABSL_FLAG(absl::Duration, dedupe_window, absl::Minutes(10),
          "How long a Record request_id is remembered, so that a retry applies once.");
ABSL_FLAG(std::string, nats, "",
          "A fleet replica: NATS server URL (nats://HOST:4222) with JetStream. Record publishes "
          "there, and the server applies the whole event stream to --histories. Empty: one "
          "machine, Record writes --histories directly.");
ABSL_FLAG(std::string, nats_stream, "RANKER_EVENTS", "The JetStream stream of events.");
ABSL_FLAG(absl::Duration, event_apply_linger, absl::Milliseconds(20),
          "A replica gathers stream messages this long after the first of a batch before "
          "applying them in one write (at once while a Record on it waits to read its writes): "
          "fewer writes, more cores for Rank, events visible up to this much later. 0: apply "
          "each message as it arrives.");
ABSL_FLAG(std::string, nats_subject_prefix, "ranker.events",
          "Events for user U are published on PREFIX.U.");
ABSL_FLAG(std::string, memory_limit, "",
          "Refuse a model config (at start or on SIGHUP) whose models' tensors, in the versions "
          "each would hold, take more than this: bytes, or with a K, M or G suffix (binary), "
          "e.g. 12G. The refusal names every model and its bytes. Empty: no limit.");
ABSL_FLAG(std::string, exposure_log, "",
          "Directory of the exposure log: a sample of Rank responses (time, model, version, "
          "label or arm, user, items, scores) in rotating files that `ranker-store exposures` "
          "reads. Default <store>-exposures; none: no log. With --nats the sample goes to the "
          "fleet's exposure stream (RANKER_EXPOSURES) instead.");
ABSL_FLAG(double, exposure_sample_rate, 0.01, "Share of Rank responses the exposure log keeps.");
ABSL_FLAG(uint32_t, exposure_log_file_mb, 64, "The exposure log starts a new file at this size.");
ABSL_FLAG(uint32_t, exposure_log_keep, 10, "Exposure log files kept (the oldest are deleted).");
ABSL_FLAG(absl::Duration, shutdown_grace, absl::Seconds(10),
          "On SIGTERM/SIGINT, how long in-flight calls may run before they are cancelled.");

namespace ranker {
namespace {

constexpr char kUsage[] = R"(ranker-server: serve top-k ranking from MEmCom-compressed models.

Usage: ranker-server [--store DIR] [--listen HOST:PORT] [flags]

Loads the newest complete version in the store (a RocksDB directory written by ranker-store or
ranker-train), serves ranker.v1.Ranker, grpc.health.v1.Health and server reflection, and
follows the store for new versions. ranker.v1.Events/Record appends users' interactions to the
server's own history database (--histories), durable before the call returns; the next Rank of
that user pools them. SIGHUP polls the store now (and reads --model_config again); SIGTERM or SIGINT stops
accepting calls and lets in-flight calls finish.

TLS: --tls_cert and --tls_key serve TLS on both listeners; add --tls_client_ca to require
client certificates (mutual TLS). The admin service answers loopback callers; remote callers
need --admin_token_file.)";

// "" -> 0 (no limit); "1234", "512K", "300M", "12G".
absl::StatusOr<uint64_t> ParseByteSize(absl::string_view text) {
  if (text.empty()) return 0;
  int shift = 0;
  switch (text.back()) {
    case 'K':
      shift = 10;
      break;
    case 'M':
      shift = 20;
      break;
    case 'G':
      shift = 30;
      break;
    default:
      break;
  }
  if (shift > 0) text.remove_suffix(1);
  uint64_t value = 0;
  if (!absl::SimpleAtoi(text, &value) || value == 0 || value > (~uint64_t{0} >> shift)) {
    return absl::InvalidArgumentError(
        "--memory_limit: expected a positive number of bytes, optionally with K, M or G");
  }
  return value << shift;
}

absl::StatusOr<ServerConfig> ConfigFromFlags() {
  ServerConfig config;
  config.store_path = absl::GetFlag(FLAGS_store);
  config.model_config_path = absl::GetFlag(FLAGS_model_config);
  if (!config.model_config_path.empty()) {
    // The default model's store takes --store's place (its histories, the default database).
    absl::StatusOr<config::ModelConfigList> models = ReadModelConfig(config.model_config_path);
    if (!models.ok()) return models.status();
    for (const config::ModelConfig& model : models->models()) {
      if (model.name() == DefaultModelName(*models)) config.store_path = model.store();
    }
  }
  config.listen = absl::GetFlag(FLAGS_listen);
  config.admin_listen = absl::GetFlag(FLAGS_admin_listen);
  config.metrics_listen = absl::GetFlag(FLAGS_metrics_listen);
  config.limits.max_k = absl::GetFlag(FLAGS_max_k);
  config.limits.max_candidates = absl::GetFlag(FLAGS_max_candidates);
  config.limits.max_history_ids = absl::GetFlag(FLAGS_max_history_ids);
  config.limits.max_history = absl::GetFlag(FLAGS_max_history);
  config.limits.retrieve_n = absl::GetFlag(FLAGS_retrieve_n);
  config.limits.max_retrieve_n = absl::GetFlag(FLAGS_max_retrieve_n);
  if (config.limits.retrieve_n > config.limits.max_retrieve_n) {
    return absl::InvalidArgumentError(absl::StrCat(
        "--retrieve_n ", config.limits.retrieve_n, " exceeds --max_retrieve_n ",
        config.limits.max_retrieve_n, ": requests could not ask for the server's own default"));
  }
  config.history_cache_bytes = size_t{absl::GetFlag(FLAGS_history_cache_mb)} << 20;
  const std::string histories = absl::GetFlag(FLAGS_histories);
  config.histories_path = histories == "none" ? ""
                          : histories.empty() ? config.store_path + "-histories"
                                              : histories;
  config.histories_path_given = !histories.empty();
  config.history_cap = absl::GetFlag(FLAGS_history_cap);
  if (config.history_cap == 0) return absl::InvalidArgumentError("--history_cap must be >= 1");
  config.record_limits.max_interactions = absl::GetFlag(FLAGS_max_record_interactions);
  if (config.record_limits.max_interactions == 0) {
    return absl::InvalidArgumentError("--max_record_interactions must be >= 1");
  }
  config.record_limits.max_future = absl::GetFlag(FLAGS_record_max_future);
  config.dedupe_window = absl::GetFlag(FLAGS_dedupe_window);
  config.nats_url = absl::GetFlag(FLAGS_nats);
  config.jetstream.stream = absl::GetFlag(FLAGS_nats_stream);
  config.jetstream.subject_prefix = absl::GetFlag(FLAGS_nats_subject_prefix);
  config.event_apply_linger = absl::GetFlag(FLAGS_event_apply_linger);
  if (config.event_apply_linger < absl::ZeroDuration() ||
      config.event_apply_linger > absl::Seconds(10)) {
    return absl::InvalidArgumentError("--event_apply_linger must be between 0 and 10s");
  }
  if (!config.nats_url.empty() && config.histories_path.empty()) {
    return absl::InvalidArgumentError("--nats needs a history database (--histories is none)");
  }
  if (!config.nats_url.empty()) config.histories_path_given = true;
  config.limits.max_concurrent = std::max<uint32_t>(1, absl::GetFlag(FLAGS_max_concurrent_ranks));
  const std::string unknown = absl::GetFlag(FLAGS_unknown_ids);
  if (unknown != "fallback" && unknown != "reject") {
    return absl::InvalidArgumentError(
        absl::StrCat("--unknown_ids must be fallback or reject, got '", unknown, "'"));
  }
  config.limits.unknown_ids =
      unknown == "reject" ? UnknownIdPolicy::kReject : UnknownIdPolicy::kFallback;
  config.manager.keep_versions = std::max<uint32_t>(1, absl::GetFlag(FLAGS_keep_versions));
  ASSIGN_OR_RETURN(config.manager.policy, ParseReloadPolicy(absl::GetFlag(FLAGS_reload_policy)));
  ASSIGN_OR_RETURN(config.credentials, MakeServerCredentials({absl::GetFlag(FLAGS_tls_cert),
                                                              absl::GetFlag(FLAGS_tls_key),
                                                              absl::GetFlag(FLAGS_tls_client_ca)}));
  if (!absl::GetFlag(FLAGS_admin_token_file).empty()) {
    ASSIGN_OR_RETURN(config.admin_token, ReadTokenFile(absl::GetFlag(FLAGS_admin_token_file)));
  }
  config.rank_threads = absl::GetFlag(FLAGS_rank_threads);
  config.max_threads = absl::GetFlag(FLAGS_threads);
  config.poll_interval = absl::GetFlag(FLAGS_poll_interval);
  config.shutdown_grace = absl::GetFlag(FLAGS_shutdown_grace);
  config.max_connection_age = absl::GetFlag(FLAGS_max_connection_age);
  ASSIGN_OR_RETURN(config.memory_limit_bytes, ParseByteSize(absl::GetFlag(FLAGS_memory_limit)));
  const std::string exposures = absl::GetFlag(FLAGS_exposure_log);
  config.exposures.dir = exposures == "none" ? ""
                         : exposures.empty() ? config.store_path + "-exposures"
                                             : exposures;
  config.exposures.sample_rate = absl::GetFlag(FLAGS_exposure_sample_rate);
  if (!(config.exposures.sample_rate >= 0 && config.exposures.sample_rate <= 1)) {
    return absl::InvalidArgumentError("--exposure_sample_rate must be in [0, 1]");
  }
  config.exposures.max_file_bytes =
      uint64_t{std::max<uint32_t>(1, absl::GetFlag(FLAGS_exposure_log_file_mb))} << 20;
  config.exposures.keep_files = std::max<uint32_t>(1, absl::GetFlag(FLAGS_exposure_log_keep));
  return config;
}

}  // namespace
}  // namespace ranker

int main(int argc, char** argv) {
  ranker::ParseToolCommandLine(argc, argv, ranker::kUsage, {"server_main"});
  // Before any thread starts, so that only RankerServer::Run sees the signals.
  ranker::RankerServer::BlockHandledSignals();
  // gRPC's locks are absl::Mutex; Debian's abseil checks every acquisition for lock-order
  // cycles (a graph update per lock: ~4% of a loaded server's CPU). Tests keep the check.
  absl::SetMutexDeadlockDetectionMode(absl::OnDeadlockCycle::kIgnore);
  absl::StatusOr<ranker::ServerConfig> config = ranker::ConfigFromFlags();
  if (!config.ok()) {
    ranker::LogError(config.status().message());
    return 2;
  }
  ranker::RankerServer server(*std::move(config));
  if (absl::Status status = server.Start(); !status.ok()) {
    ranker::LogError(status.message());
    return 1;
  }
  server.Run();
  return 0;
}
