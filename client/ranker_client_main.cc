// ranker-client: call a ranker-server from the command line (people and scripts). This file
// parses the flags and dispatches; the commands are in client/*_command(s).cc.
#include <algorithm>
#include <cstdio>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/strings/numbers.h"
#include "absl/time/time.h"
#include "client/channel.h"
#include "client/commands.h"
#include "common/command_line.h"

ABSL_FLAG(std::string, target, "localhost:50051",
          "Server address: HOST:PORT, or several replicas as ipv4:HOST:PORT,HOST:PORT,... or "
          "dns:///NAME:PORT (every address the name resolves to).");
ABSL_FLAG(std::string, lb, "pick_first",
          "How calls spread over the target's addresses: pick_first (one at a time, gRPC's "
          "default) or round_robin (every address, call by call).");
ABSL_FLAG(int, rank_attempts, 0,
          "Tries per Rank call when a replica answers UNAVAILABLE or drops the connection "
          "(1 = no retry; at most 5; 0 = 3, but 1 for bench, which reports failures rather "
          "than hiding them). Only Rank is retried: it changes nothing.");
ABSL_FLAG(uint64_t, user, 0, "rank, record: user id.");
ABSL_FLAG(uint32_t, k, 10, "rank: number of items to return.");
ABSL_FLAG(std::string, candidates, "",
          "rank: comma-separated candidate item ids; empty ranks the whole catalogue.");
ABSL_FLAG(std::string, history, "",
          "rank: comma-separated item ids the user saw, oldest first (history models only).");
ABSL_FLAG(std::string, exclude, "", "rank: comma-separated item ids never to return.");
ABSL_FLAG(bool, include_seen, false, "rank: history models may return items of the history.");
ABSL_FLAG(uint32_t, retrieve_n, 0,
          "rank, bench: two stages when the candidates (the catalogue when none are given) "
          "number more than this: retrieval by the dot-product term keeps N, the scorer ranks "
          "them (0 = the server's --retrieve_n).");
ABSL_FLAG(uint64_t, model_version, 0, "rank, info: pin a loaded model version (0 = current).");
ABSL_FLAG(std::string, model, "",
          "rank, info: which model of a server with several (--model_config); empty: its default.");
ABSL_FLAG(std::string, version_label, "",
          "rank, info: a version by its label (e.g. stable, canary), which also forces a traffic "
          "split's arm; empty: the split's arm for --user, or the newest version.");
ABSL_FLAG(std::string, items, "",
          "record: comma-separated item ids of --user, oldest first. bench: candidate ids are "
          "drawn from [0, items) (empty or 0 = the model's n).");
ABSL_FLAG(std::string, file, "",
          "record: a file of user,item[,timestamp_ms] lines in time order (a header line is "
          "skipped).");
ABSL_FLAG(std::string, request_id, "",
          "record: the request id (a retry with the same id applies once); default: a fresh "
          "one per run, or for --file one per batch derived from the file's path.");
ABSL_FLAG(uint32_t, batch, 1000, "record --file: interactions per Record call.");
ABSL_FLAG(absl::Duration, timeout, absl::Seconds(10), "Deadline for each call.");
ABSL_FLAG(bool, json, false, "Print the response as JSON.");
ABSL_FLAG(uint32_t, repeat, 1,
          "rank: send the request this many times on one connection and print latency "
          "percentiles (the first call, which opens the connection, is reported apart).");
ABSL_FLAG(int, concurrency, 8, "bench: calls in flight at all times (closed loop).");
ABSL_FLAG(absl::Duration, duration, absl::Seconds(10), "bench: how long to measure.");
ABSL_FLAG(absl::Duration, warmup, absl::Seconds(1), "bench: calls before measuring starts.");
ABSL_FLAG(int, candidates_per_request, 100,
          "bench: random candidates per Rank (0 = rank the whole catalogue).");
ABSL_FLAG(uint64_t, users, 0, "bench: user ids drawn from [0, users) (0 = the model's n).");
ABSL_FLAG(std::string, rpc, "rank", "bench: rank, or empty (the health check, the floor).");
ABSL_FLAG(int, channels, 2, "bench: gRPC connections to spread the calls over.");
ABSL_FLAG(std::string, client_api, "async",
          "bench: async (all calls from --client_threads threads on completion queues: the "
          "client's own CPU stays small) or sync (a blocking thread per call in flight).");
ABSL_FLAG(int, client_threads, 1, "bench, async: threads making the calls.");
ABSL_FLAG(bool, progress, true, "bench, record --file: print a line per second to stderr.");
ABSL_FLAG(std::string, service, "",
          "health: service name to check (empty = the server as a whole).");
ABSL_FLAG(std::string, admin_target, "localhost:50052",
          "reload, versions: the server's admin address, HOST:PORT.");
ABSL_FLAG(std::string, label, "", "set-label: the label to move (e.g. stable).");
ABSL_FLAG(std::string, admin_token_file, "",
          "reload, versions: file with the admin token (needed only from another host).");
ABSL_FLAG(std::string, tls_ca, "",
          "PEM file of the CA that signed the server's certificate; enables TLS.");
ABSL_FLAG(std::string, tls_cert, "",
          "PEM client certificate, for servers that require mutual TLS.");
ABSL_FLAG(std::string, tls_key, "", "PEM private key of --tls_cert.");
ABSL_FLAG(std::string, tls_server_name, "",
          "Name to expect in the server's certificate (default: the host of the target).");

namespace ranker {
namespace {

constexpr char kUsage[] = R"(ranker-client: talk to a ranker-server.

Usage: ranker-client COMMAND [--target HOST:PORT] [flags]

Commands:
  rank     top-k items for a user:  rank --user 42 --k 10 [--candidates 1,2,3] [--exclude 7]
           history models: rank --history 5,9,12 (the items the user saw, oldest first)
           [--retrieve_n N]: retrieval keeps N by the dot product, the scorer ranks those
  record   interactions into the user's stored history (ranker.v1.Events):
           record --user 5 --items 1,2,3, or record --file log.csv (user,item[,timestamp_ms])
           [--batch 1000]; prints progress and a summary; rerunning a file applies it once
  bench    closed-loop load: bench --concurrency 8 --duration 10s --candidates_per_request 100
           [--rpc rank|empty] [--client_api async|sync] [--client_threads 1] [--json];
           prints QPS, latency percentiles, errors by code
  info     the served model: version, tables (kind, n, m, d), bytes, compression
  health   the standard gRPC health check; exit code 0 only when SERVING
  reload   ask the server to load the newest version in its store now (admin service)
  versions the loaded versions, their memory and which one serves (admin service)
  models   the models served: versions, labels, traffic split (admin service)
  set-label --label L --model_version V [--model M]: point a label at a loaded version,
           atomically (admin service; until restart or the model config is read again)
  reload-config  read the server's --model_config again and apply it, as SIGHUP does; the
           answer says which models are served, or why the file was refused (admin service)

Replicas: --target ipv4:10.0.0.1:50051,10.0.0.2:50051 (or dns:///ranker:50051) --lb round_robin;
Rank is retried on UNAVAILABLE (--rank_attempts, 3 by default, 1 for bench): with round robin,
a replica that goes away or has no model yet costs a retry on another one, not a failed call,
unless the attempts or the deadline run out, or most calls fail (retry throttling).

TLS: --tls_ca CA.pem [--tls_cert client.pem --tls_key client.key] [--tls_server_name NAME].

Exit code: 0 on success, 1 on an RPC error (its gRPC status is printed), 2 on bad usage.)";

CallOptions CallFlags() {
  CallOptions call;
  call.target = absl::GetFlag(FLAGS_target);
  call.admin_target = absl::GetFlag(FLAGS_admin_target);
  call.admin_token_file = absl::GetFlag(FLAGS_admin_token_file);
  call.tls = ClientTlsFiles{absl::GetFlag(FLAGS_tls_ca), absl::GetFlag(FLAGS_tls_cert),
                            absl::GetFlag(FLAGS_tls_key), absl::GetFlag(FLAGS_tls_server_name)};
  call.balancing = ClientBalancing{absl::GetFlag(FLAGS_lb), absl::GetFlag(FLAGS_rank_attempts)};
  call.timeout = absl::GetFlag(FLAGS_timeout);
  call.json = absl::GetFlag(FLAGS_json);
  return call;
}

LoadGeneratorOptions LoadFlags() {
  LoadGeneratorOptions load;
  load.rpc = absl::GetFlag(FLAGS_rpc);
  load.concurrency = std::max(1, absl::GetFlag(FLAGS_concurrency));
  load.duration = absl::GetFlag(FLAGS_duration);
  load.warmup = absl::GetFlag(FLAGS_warmup);
  load.candidates = std::max(0, absl::GetFlag(FLAGS_candidates_per_request));
  load.k = absl::GetFlag(FLAGS_k);
  load.channels = absl::GetFlag(FLAGS_channels);
  load.api = absl::GetFlag(FLAGS_client_api);
  load.client_threads = absl::GetFlag(FLAGS_client_threads);
  load.deadline = absl::GetFlag(FLAGS_timeout);
  load.users = absl::GetFlag(FLAGS_users);
  // Checked by Run before bench starts.
  if (!absl::GetFlag(FLAGS_items).empty())
    (void)absl::SimpleAtoi(absl::GetFlag(FLAGS_items), &load.items);
  load.retrieve_n = absl::GetFlag(FLAGS_retrieve_n);
  return load;
}

int Run(const std::vector<char*>& args) {
  if (args.size() != 2) {
    std::fprintf(stderr,
                 "ranker-client: give exactly one command: rank, record, info, health, bench, "
                 "reload, versions, models, set-label or reload-config (see --help)\n");
    return 2;
  }
  const std::string command = args[1];
  CallOptions call = CallFlags();
  if (call.balancing.rank_attempts == 0) call.balancing.rank_attempts = command == "bench" ? 1 : 3;
  if (absl::Status tls = MakeChannelCredentials(call.tls).status(); !tls.ok()) {
    std::fprintf(stderr, "ranker-client: %s\n", std::string(tls.message()).c_str());
    return 2;
  }
  if (absl::Status lb = ServiceConfigJson(call.balancing).status(); !lb.ok()) {
    std::fprintf(stderr, "ranker-client: %s\n", std::string(lb.message()).c_str());
    return 2;
  }
  if (command == "rank") {
    RankCommand rank;
    rank.user = absl::GetFlag(FLAGS_user);
    rank.k = absl::GetFlag(FLAGS_k);
    rank.candidates = absl::GetFlag(FLAGS_candidates);
    rank.history = absl::GetFlag(FLAGS_history);
    rank.exclude = absl::GetFlag(FLAGS_exclude);
    rank.include_seen = absl::GetFlag(FLAGS_include_seen);
    rank.model_version = absl::GetFlag(FLAGS_model_version);
    rank.model = absl::GetFlag(FLAGS_model);
    rank.version_label = absl::GetFlag(FLAGS_version_label);
    rank.repeat = absl::GetFlag(FLAGS_repeat);
    rank.retrieve_n = absl::GetFlag(FLAGS_retrieve_n);
    return RunRank(call, rank);
  }
  if (command == "record") {
    RecordCommand record;
    if (absl::GetFlag(FLAGS_user) != 0 || !absl::GetFlag(FLAGS_items).empty()) {
      record.user = absl::GetFlag(FLAGS_user);
    }
    record.items = absl::GetFlag(FLAGS_items);
    record.file = absl::GetFlag(FLAGS_file);
    record.request_id = absl::GetFlag(FLAGS_request_id);
    record.batch = std::max<uint32_t>(1, absl::GetFlag(FLAGS_batch));
    record.progress = absl::GetFlag(FLAGS_progress);
    return RunRecord(call, record);
  }
  if (command == "info") {
    return RunInfo(call, absl::GetFlag(FLAGS_model_version), absl::GetFlag(FLAGS_model),
                   absl::GetFlag(FLAGS_version_label));
  }
  if (command == "health") return RunHealth(call, absl::GetFlag(FLAGS_service));
  if (command == "bench") {
    uint64_t items = 0;
    if (!absl::GetFlag(FLAGS_items).empty() &&
        !absl::SimpleAtoi(absl::GetFlag(FLAGS_items), &items)) {
      std::fprintf(stderr, "ranker-client bench: --items must be a number, got '%s'\n",
                   absl::GetFlag(FLAGS_items).c_str());
      return 2;
    }
  }
  if (command == "bench") return RunBench(call, LoadFlags(), absl::GetFlag(FLAGS_progress));
  if (command == "reload") return RunReload(call);
  if (command == "versions") return RunVersions(call);
  if (command == "models") return RunModels(call);
  if (command == "reload-config") return RunReloadConfig(call);
  if (command == "set-label") {
    if (absl::GetFlag(FLAGS_label).empty() || absl::GetFlag(FLAGS_model_version) == 0) {
      std::fprintf(stderr, "ranker-client set-label: give --label and --model_version\n");
      return 2;
    }
    return RunSetLabel(call, absl::GetFlag(FLAGS_model), absl::GetFlag(FLAGS_label),
                       absl::GetFlag(FLAGS_model_version));
  }
  std::fprintf(stderr, "ranker-client: unknown command '%s' (see --help)\n", command.c_str());
  return 2;
}

}  // namespace
}  // namespace ranker

int main(int argc, char** argv) {
  return ranker::Run(ranker::ParseToolCommandLine(argc, argv, ranker::kUsage, {"client/"}));
}
