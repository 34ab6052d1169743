// ranker-store: create, inspect, verify, garbage-collect, export and pull snapshot stores, and
// manage stored histories. This file parses the flags and dispatches; the commands are in
// model_store/cli/*_commands.cc.
#include <signal.h>

#include <cstdio>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/time/time.h"
#include "common/command_line.h"
#include "common/status_macros.h"
#include "model/row_budget.h"
#include "model/table_layout.h"
#include "model_store/cli/repository_commands.h"
#include "model_store/cli/store_commands.h"

ABSL_FLAG(std::string, store, "var/store", "Store directory (a RocksDB database).");
ABSL_FLAG(uint64_t, users, 100000, "demo: number of users.");
ABSL_FLAG(uint64_t, items, 10000, "demo: number of items.");
ABSL_FLAG(uint32_t, d, 32, "demo: embedding dimension.");
ABSL_FLAG(std::string, kind, "memcom",
          absl::StrCat("demo: table kind: ", ranker::TableKindNames(), "."));
ABSL_FLAG(double, ratio, 16, "demo: embedding compression ratio (full n*d / table parameters).");
ABSL_FLAG(std::string, hidden, "64,32", "demo: MLP hidden widths, comma-separated.");
ABSL_FLAG(float, dot_weight, 1.0f, "demo: weight of the e_u . e_i term added to the MLP.");
ABSL_FLAG(bool, sparse_item_ids, false, "demo: use sparse item ids (7i+3) with an id map.");
ABSL_FLAG(std::string, user_mode, "id",
          "demo: id (a user table) or history (users pooled from the items they saw: tables "
          "item_in and item, and a popularity prior).");
ABSL_FLAG(std::string, row_dtype, "float32",
          "demo: how the tables' d-wide rows are stored: float32; int8 with a float scale per "
          "row (about 4x smaller rows); or pq<M>x<bits>, product-quantisation codes (M "
          "sub-vectors of 4 or 8 bits into a k-means codebook, e.g. pq16x8). Composable with "
          "every kind.");
ABSL_FLAG(double, target_ratio, 0,
          "demo: a history model of full tables whose row storages are the ones ranker-train "
          "--target_ratio would choose for --items and --d (model/row_budget.h); overrides "
          "--user_mode, --kind and --row_dtype. 0: off.");
ABSL_FLAG(uint64_t, seed, 42, "demo: seed; the same flags give the same model.");
ABSL_FLAG(uint64_t, version, 0, "demo: version to publish (0 = latest + 1).");
ABSL_FLAG(uint32_t, chunk_kib, 4096, "demo: size of the tensor chunks written to the store, KiB.");
ABSL_FLAG(std::string, spec, "", "import: the description file (see model_store/import_spec.h).");
ABSL_FLAG(std::string, format, "auto",
          "history import: log format: auto (u.data by name, .txt as spaces, else CSV), "
          "movielens-tab, csv, spaces.");
ABSL_FLAG(uint32_t, history_cap, 200,
          "history import / demo: most items kept per user (the newest distinct ones).");
ABSL_FLAG(uint64_t, history_users, 0,
          "demo --user_mode history: users 0..N-1 given a stored history of 5-30 items (0 = "
          "min(--users, 100000)).");
ABSL_FLAG(uint32_t, keep, 3,
          "gc: number of newest versions to keep (>= 1); pull: after each new version, remove "
          "all but the newest --keep (0 = keep every version pulled).");
ABSL_FLAG(std::string, nats, "",
          "history import, events export: the fleet's NATS server (nats://HOST:4222): import "
          "publishes to the event stream, which every replica applies.");
ABSL_FLAG(std::string, nats_stream, "RANKER_EVENTS", "The JetStream stream of events.");
ABSL_FLAG(std::string, nats_subject_prefix, "ranker.events", "Events for user U are on PREFIX.U.");
ABSL_FLAG(std::string, since, "0",
          "events export, exposures: records stamped at or after this time (Unix milliseconds, "
          "or RFC 3339 like 2026-12-06T00:00:00Z).");
ABSL_FLAG(std::string, exposures, "",
          "exposures: the server's exposure log directory (default <store>-exposures).");
ABSL_FLAG(std::string, to, "", "export: the repository directory.");
ABSL_FLAG(bool, with_histories, false,
          "export: ship the store's history family with the version (a fleet without an event "
          "broker); by default versions carry the model only and replicas get histories from "
          "the event stream (history publish --nats).");
ABSL_FLAG(std::string, from, "", "pull: the repository directory.");
ABSL_FLAG(absl::Duration, follow, absl::ZeroDuration(),
          "pull: pull again at about this interval (each wait drawn within +-10%, so replicas "
          "drift apart) until SIGTERM (0 = once).");
ABSL_FLAG(bool, crash_before_commit, false,
          "testing: write all chunks, then exit(3) before the final batch (a killed publisher).");

namespace ranker {
namespace {

constexpr char kUsage[] = R"(ranker-store: manage a MEmCom ranker snapshot store.

Usage: ranker-store COMMAND [--store DIR] [flags]

Commands:
  init              create an empty store
  demo              publish a deterministic synthetic model as a new version
                    (--users --items --d --kind --ratio --hidden --dot_weight --seed
                    --user_mode id|history --row_dtype float32|int8|pq16x8 --target_ratio R)
  list              list versions, newest last, with sizes
  inspect VERSION   print a version's manifest: producer, tables, scorer, tensors
  verify VERSION    load a version completely: chunks, checksums, shapes, finiteness
  gc                remove all but the newest --keep versions, and orphan chunks
  import            publish tables trained elsewhere: --spec FILE names .npy tensors (fp32 or
                    uint64, C order) and the tables and scorer they form; shapes are checked
  history import FILE   append users' items from an interaction log (MovieLens u.data or
                    CSV user,item[,rating[,timestamp]]; --format) to the stored histories,
                    in time order, keeping each user's newest --history_cap distinct items;
                    with --nats URL: publish them to the fleet's event stream instead (every
                    replica applies them; importing the same file again adds nothing within
                    the broker's deduplication window)
  history show USER     print a user's stored history, oldest first
  history stats         users with a stored history and their bytes on disk
  history digest        one checksum of every stored history (and the event-log sequence
                        applied through): equal on replicas that hold the same histories
  history publish --nats URL   the store's histories into the fleet's event stream (how an
                        existing store's histories reach replicas now that exports leave them
                        out; publishing the same histories again adds nothing)
  events export --nats URL [--since T] > log.csv   the fleet's event stream as the trainer's
                    CSV (user,item,rating,timestamp_ms): what was recorded, to train on
  exposures [--exposures DIR | --nats URL] [--since T] > exposures.csv   the exposure log (a
                    sample of Rank responses: ranker-server --exposure_log, or in a fleet the
                    stream RANKER_EXPOSURES on --nats) as CSV:
                    time_ms,model,model_version,version_label,split,user_id,item_ids,scores
                    (ids and scores space-separated, best first); a summary on stderr
  export [VERSION] --to REPO   write a version (default: latest; --with_histories: and the
                    stored histories) to a snapshot repository as RocksDB table files with
                    checksums, then point REPO/LATEST at it (model_store/snapshot_repository.h)
  pull --from REPO [--follow 10s] [--keep 3]   bring REPO's latest into the store: copy,
                    check every file's size and CRC-32C, ingest (RocksDB bulk load), move
                    latest, keep the newest --keep versions; damaged files are refused and
                    the store keeps its version

Stored histories are what a history model pools for Rank(user_id) when the request carries
no history_ids. They are not versioned with models; a running server sees appended ones
within its --poll_interval.

Read-only commands (list, inspect, verify, history show|stats, export) open the store as a
RocksDB secondary, so they work while a server or publisher has it open.)";

absl::StatusOr<uint64_t> ParseVersion(const std::vector<char*>& args) {
  uint64_t version = 0;
  if (args.size() != 3 || !absl::SimpleAtoi(args[2], &version) || version == 0) {
    return absl::InvalidArgumentError(absl::StrCat(args[1], " takes one VERSION (a number >= 1)"));
  }
  return version;
}

absl::StatusOr<DemoCommand> DemoFromFlags() {
  DemoCommand command;
  DemoModelOptions& demo = command.model;
  demo.users = absl::GetFlag(FLAGS_users);
  demo.items = absl::GetFlag(FLAGS_items);
  demo.d = absl::GetFlag(FLAGS_d);
  ASSIGN_OR_RETURN(demo.kind, ParseTableKind(absl::GetFlag(FLAGS_kind)));
  demo.ratio = absl::GetFlag(FLAGS_ratio);
  demo.hidden.clear();
  for (absl::string_view part :
       absl::StrSplit(absl::GetFlag(FLAGS_hidden), ',', absl::SkipEmpty())) {
    uint32_t width = 0;
    if (!absl::SimpleAtoi(part, &width) || width == 0) {
      return absl::InvalidArgumentError(absl::StrCat("--hidden: bad width '", part, "'"));
    }
    demo.hidden.push_back(width);
  }
  demo.dot_weight = absl::GetFlag(FLAGS_dot_weight);
  demo.sparse_item_ids = absl::GetFlag(FLAGS_sparse_item_ids);
  demo.seed = absl::GetFlag(FLAGS_seed);
  const std::string user_mode = absl::GetFlag(FLAGS_user_mode);
  if (user_mode != "id" && user_mode != "history") {
    return absl::InvalidArgumentError(
        absl::StrCat("--user_mode must be id or history, got '", user_mode, "'"));
  }
  demo.user_mode = user_mode == "history" ? snapshot::USER_MODE_HISTORY : snapshot::USER_MODE_ID;
  ASSIGN_OR_RETURN(demo.rows, ParseRowStorage(absl::GetFlag(FLAGS_row_dtype)));
  if (const double target = absl::GetFlag(FLAGS_target_ratio); target != 0) {
    // The shape ranker-train --target_ratio trains: full history tables, recommended storages.
    ASSIGN_OR_RETURN(RowBudget budget, RecommendRowBudget(demo.items, demo.d, target));
    demo.user_mode = snapshot::USER_MODE_HISTORY;
    demo.kind = snapshot::FULL;
    demo.rows = budget.input;
    demo.output_rows = budget.output;
    std::printf("target ratio %g: full history tables, %s\n", target,
                DescribeRowBudget(budget).c_str());
    std::fflush(stdout);  // before the training log on stderr
  }

  command.version = absl::GetFlag(FLAGS_version);
  command.chunk_kib = absl::GetFlag(FLAGS_chunk_kib);
  command.history_users = absl::GetFlag(FLAGS_history_users);
  command.history_cap = absl::GetFlag(FLAGS_history_cap);
  command.crash_before_commit = absl::GetFlag(FLAGS_crash_before_commit);
  return command;
}

EventStreamFlags StreamFlags() {
  EventStreamFlags flags;
  flags.nats_url = absl::GetFlag(FLAGS_nats);
  flags.stream = absl::GetFlag(FLAGS_nats_stream);
  flags.subject_prefix = absl::GetFlag(FLAGS_nats_subject_prefix);
  flags.history_cap = absl::GetFlag(FLAGS_history_cap);
  return flags;
}

absl::Status History(const std::vector<char*>& args) {
  const std::string store = absl::GetFlag(FLAGS_store);
  const std::string sub = args.size() > 2 ? args[2] : "";
  if (sub == "stats" && args.size() == 3) return RunHistoryStats(store);
  if (sub == "digest" && args.size() == 3) return RunHistoryDigest(store);
  if (sub == "publish" && args.size() == 3) {
    if (absl::GetFlag(FLAGS_nats).empty()) {
      return absl::InvalidArgumentError("history publish needs --nats URL (the fleet's broker)");
    }
    return RunHistoryPublish(StreamFlags(), store);
  }
  if (sub == "import" && args.size() == 4 && !absl::GetFlag(FLAGS_nats).empty()) {
    return RunEventsImport(StreamFlags(), args[3], absl::GetFlag(FLAGS_format));
  }
  if (sub == "import" && args.size() == 4) {
    return RunHistoryImport(store, args[3], absl::GetFlag(FLAGS_format),
                            absl::GetFlag(FLAGS_history_cap));
  }
  uint64_t user_id = 0;
  if (sub == "show" && args.size() == 4) {
    if (!absl::SimpleAtoi(args[3], &user_id)) {
      return absl::InvalidArgumentError(absl::StrCat("history show: bad USER '", args[3], "'"));
    }
    return RunHistoryShow(store, user_id);
  }
  return absl::InvalidArgumentError(
      "usage: ranker-store history import FILE | show USER | stats | digest | publish (see "
      "--help)");
}

// --since as Unix milliseconds.
absl::StatusOr<int64_t> SinceMillis() {
  const std::string since = absl::GetFlag(FLAGS_since);
  int64_t since_ms = 0;
  if (!absl::SimpleAtoi(since, &since_ms)) {
    absl::Time time;
    std::string error;
    if (!absl::ParseTime(absl::RFC3339_full, since, &time, &error)) {
      return absl::InvalidArgumentError(
          absl::StrCat("--since '", since, "': not Unix milliseconds nor RFC 3339 (", error, ")"));
    }
    since_ms = absl::ToUnixMillis(time);
  }
  return since_ms;
}

absl::Status Events(const std::vector<char*>& args) {
  if (args.size() != 3 || std::string(args[2]) != "export") {
    return absl::InvalidArgumentError("usage: ranker-store events export --nats URL [--since T]");
  }
  if (absl::GetFlag(FLAGS_nats).empty()) {
    return absl::InvalidArgumentError("events export needs --nats URL (the fleet's broker)");
  }
  ASSIGN_OR_RETURN(const int64_t since_ms, SinceMillis());
  return RunEventsExport(StreamFlags(), since_ms);
}

absl::Status Run(const std::vector<char*>& args) {
  if (args.size() < 2) return absl::InvalidArgumentError("no command given (see --help)");
  const std::string command = args[1];
  const std::string store = absl::GetFlag(FLAGS_store);
  if (command == "history") return History(args);
  if (command == "events") return Events(args);
  if (command == "exposures") {
    if (args.size() > 2) {
      return absl::InvalidArgumentError(absl::StrCat("unexpected argument '", args[2], "'"));
    }
    ASSIGN_OR_RETURN(const int64_t since_ms, SinceMillis());
    if (!absl::GetFlag(FLAGS_nats).empty()) {
      return RunExposureStream(absl::GetFlag(FLAGS_nats), since_ms);
    }
    const std::string dir = absl::GetFlag(FLAGS_exposures);
    return RunExposures(dir.empty() ? store + "-exposures" : dir, since_ms);
  }
  if (command == "export") {
    uint64_t version = 0;
    if (args.size() > 2) {
      ASSIGN_OR_RETURN(version, ParseVersion(args));
    }
    return RunExport(store, version, absl::GetFlag(FLAGS_to), absl::GetFlag(FLAGS_with_histories));
  }
  const bool takes_version = command == "inspect" || command == "verify";
  if (!takes_version && args.size() > 2) {
    return absl::InvalidArgumentError(absl::StrCat("unexpected argument '", args[2], "'"));
  }
  if (command == "init") return RunInit(store);
  if (command == "demo") {
    ASSIGN_OR_RETURN(DemoCommand demo, DemoFromFlags());
    return RunDemo(store, demo);
  }
  if (command == "list") return RunList(store);
  if (command == "gc") return RunGc(store, absl::GetFlag(FLAGS_keep));
  if (command == "import") return RunImport(store, absl::GetFlag(FLAGS_spec));
  if (command == "pull") {
    return RunPull(absl::GetFlag(FLAGS_from), store, absl::GetFlag(FLAGS_follow),
                   absl::GetFlag(FLAGS_keep));
  }
  if (takes_version) {
    ASSIGN_OR_RETURN(uint64_t version, ParseVersion(args));
    return command == "inspect" ? RunInspect(store, version) : RunVerify(store, version);
  }
  return absl::InvalidArgumentError(absl::StrCat("unknown command '", command, "' (see --help)"));
}

}  // namespace
}  // namespace ranker

int main(int argc, char** argv) {
  // Before any thread: `pull --follow` waits for these with sigtimedwait.
  sigset_t stop;
  sigemptyset(&stop);
  sigaddset(&stop, SIGTERM);
  sigaddset(&stop, SIGINT);
  pthread_sigmask(SIG_BLOCK, &stop, nullptr);
  std::vector<char*> args =
      ranker::ParseToolCommandLine(argc, argv, ranker::kUsage, {"ranker_store_main"});
  absl::Status status = ranker::Run(args);
  if (!status.ok()) {
    std::fprintf(stderr, "ranker-store: %s\n", status.ToString().c_str());
    return status.code() == absl::StatusCode::kInvalidArgument ? 2 : 1;
  }
  return 0;
}
