// The ranker-client commands. Each takes the options its flags gave, prints for people (or JSON
// with `json`), and returns the process exit code: 0 on success, 1 when the RPC fails (its
// gRPC status is printed to stderr) or, for health/bench, when the server is not serving or
// calls failed; 2 on bad usage.
#ifndef RANKER_CLIENT_COMMANDS_H_
#define RANKER_CLIENT_COMMANDS_H_

#include <cstdint>
#include <optional>
#include <string>

#include "absl/time/time.h"
#include "client/channel.h"
#include "client/load_generator.h"

namespace ranker {

// How every command reaches the server.
struct CallOptions {
  std::string target = "localhost:50051";
  std::string admin_target = "localhost:50052";
  std::string admin_token_file;  // empty: no token (loopback admin calls need none)
  ClientTlsFiles tls;
  ClientBalancing balancing;  // for `target`: several addresses, round robin, Rank retries
  absl::Duration timeout = absl::Seconds(10);
  bool json = false;
};

struct RankCommand {
  uint64_t user = 0;
  uint32_t k = 10;
  std::string candidates;  // comma-separated ids; empty = the whole catalogue
  std::string history;     // comma-separated item ids, oldest first (history models)
  std::string exclude;     // comma-separated item ids never returned
  bool include_seen = false;
  uint64_t model_version = 0;
  std::string model;          // empty: the server's default model
  std::string version_label;  // e.g. "canary"; empty: the model's split or newest version
  uint32_t repeat = 1;        // > 1: print latency percentiles of the repeated call
  uint32_t retrieve_n = 0;    // two stages above this many candidates (0 = server default)
};

struct RecordCommand {
  std::optional<uint64_t> user;  // with `items`: one call
  std::string items;             // comma-separated item ids, oldest first
  std::string file;              // or lines of user,item[,timestamp_ms], in time order
  std::string request_id;        // empty: one per run (items) or derived from the file's path
  uint32_t batch = 1000;         // interactions per call, from a file
  bool progress = true;
};

int RunRank(const CallOptions& call, const RankCommand& command);
int RunRecord(const CallOptions& call, const RecordCommand& command);
int RunInfo(const CallOptions& call, uint64_t model_version, const std::string& model = "",
            const std::string& version_label = "");
int RunHealth(const CallOptions& call, const std::string& service);
// `load.target`, `load.tls` and `load.balancing` come from `call`; users/items of 0 are read from
// the model.
int RunBench(const CallOptions& call, LoadGeneratorOptions load, bool progress);
int RunReload(const CallOptions& call);
int RunVersions(const CallOptions& call);
int RunModels(const CallOptions& call);
int RunSetLabel(const CallOptions& call, const std::string& model, const std::string& label,
                uint64_t version);
int RunReloadConfig(const CallOptions& call);

}  // namespace ranker

#endif  // RANKER_CLIENT_COMMANDS_H_
