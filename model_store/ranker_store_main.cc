// ranker-store: create, inspect, verify, garbage-collect, export and pull snapshot stores.
#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <ctime>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "common/command_line.h"
#include "common/format_bytes.h"
#include "common/status_macros.h"
#include "model/demo_model.h"
#include "model/table_layout.h"
#include "model/table_sizing.h"
#include "model_store/history_store.h"
#include "model_store/import_spec.h"
#include "model_store/model_loader.h"
#include "model_store/repository_commands.h"
#include "model_store/snapshot_store.h"
#include "trainer/interactions.h"
#include "trainer/user_histories.h"

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
          "demo: how the tables' d-wide rows are stored: float32, or int8 with a float scale per "
          "row (about 4x smaller rows, composable with every kind).");
ABSL_FLAG(uint64_t, seed, 42, "demo: seed; the same flags give the same model.");
ABSL_FLAG(uint64_t, version, 0, "demo: version to publish (0 = latest + 1).");
ABSL_FLAG(uint32_t, chunk_kib, 4096, "demo: size of the tensor chunks written to the store, KiB.");
ABSL_FLAG(std::string, spec, "", "import: the description file (see model_store/import_spec.h).");
ABSL_FLAG(std::string, format, "auto",
          "history import: log format: auto (u.data by name, else CSV), movielens, csv.");
ABSL_FLAG(uint32_t, history_cap, 200,
          "history import / demo: most items kept per user (the newest distinct ones).");
ABSL_FLAG(uint64_t, history_users, 0,
          "demo --user_mode history: users 0..N-1 given a stored history of 5-30 items (0 = "
          "min(--users, 100000)).");
ABSL_FLAG(uint32_t, keep, 3,
          "gc: number of newest versions to keep (>= 1); pull: after each new version, remove "
          "all but the newest --keep (0 = keep every version pulled).");
ABSL_FLAG(std::string, to, "", "export: the repository directory.");
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
                    --user_mode id|history --row_dtype float32|int8)
  list              list versions, newest last, with sizes
  inspect VERSION   print a version's manifest: producer, tables, scorer, tensors
  verify VERSION    load a version completely: chunks, checksums, shapes, finiteness
  gc                remove all but the newest --keep versions, and orphan chunks
  import            publish tables trained elsewhere: --spec FILE names .npy tensors (fp32 or
                    uint64, C order) and the tables and scorer they form; shapes are checked
  history import FILE   append users' items from an interaction log (MovieLens u.data or
                    CSV user,item[,rating[,timestamp]]; --format) to the stored histories,
                    in time order, keeping each user's newest --history_cap distinct items
  history show USER     print a user's stored history, oldest first
  history stats         users with a stored history and their bytes on disk
  export [VERSION] --to REPO   write a version (default: latest) and the stored histories
                    to a snapshot repository as RocksDB table files with checksums, then
                    point REPO/LATEST at it (model_store/snapshot_repository.h)
  pull --from REPO [--follow 10s] [--keep 3]   bring REPO's latest into the store: copy,
                    check every file's size and CRC-32C, ingest (RocksDB bulk load), move
                    latest, keep the newest --keep versions; damaged files are refused and
                    the store keeps its version

Stored histories are what a history model pools for Rank(user_id) when the request carries
no history_ids. They are not versioned with models; a running server sees appended ones
within its --poll_interval.

Read-only commands (list, inspect, verify, history show|stats, export) open the store as a
RocksDB secondary, so they work while a server or publisher has it open.)";

std::string FormatTime(int64_t unix_seconds) {
  char buffer[32];
  const time_t t = unix_seconds;
  struct tm tm_utc;
  gmtime_r(&t, &tm_utc);
  strftime(buffer, sizeof(buffer), "%Y-%m-%dT%H:%M:%SZ", &tm_utc);
  return buffer;
}

uint64_t ManifestBytes(const Manifest& manifest) {
  uint64_t bytes = 0;
  for (const TensorSpec& t : manifest.tensors()) bytes += t.byte_size();
  return bytes;
}

absl::StatusOr<uint64_t> ParseVersion(const std::vector<char*>& args) {
  uint64_t version = 0;
  if (args.size() != 3 || !absl::SimpleAtoi(args[2], &version) || version == 0) {
    return absl::InvalidArgumentError(absl::StrCat(args[1], " takes one VERSION (a number >= 1)"));
  }
  return version;
}

absl::Status Init() {
  StoreOptions options;
  options.create_if_missing = true;
  ASSIGN_OR_RETURN(auto store, SnapshotStore::OpenPrimary(absl::GetFlag(FLAGS_store), options));
  std::printf("store ready at %s\n", store->path().c_str());
  return absl::OkStatus();
}

absl::Status Demo() {
  DemoModelOptions demo;
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
  ASSIGN_OR_RETURN(demo.row_dtype, ParseRowDType(absl::GetFlag(FLAGS_row_dtype)));

  const auto start = std::chrono::steady_clock::now();
  ASSIGN_OR_RETURN(Snapshot snapshot, MakeDemoSnapshot(demo));
  StoreOptions store_options;
  store_options.create_if_missing = true;
  ASSIGN_OR_RETURN(auto store,
                   SnapshotStore::OpenPrimary(absl::GetFlag(FLAGS_store), store_options));
  // Marks the start of writing, for tests that kill the publisher at random points in it.
  std::printf("publishing to %s\n", store->path().c_str());
  std::fflush(stdout);
  PublishOptions publish;
  publish.version = absl::GetFlag(FLAGS_version);
  publish.chunk_bytes = size_t{std::max<uint32_t>(1, absl::GetFlag(FLAGS_chunk_kib))} << 10;
  if (absl::GetFlag(FLAGS_crash_before_commit)) {
    publish.before_commit = []() -> absl::Status {
      std::fprintf(stderr, "ranker-store: --crash_before_commit: exiting before the final batch\n");
      _exit(3);
    };
  }
  ASSIGN_OR_RETURN(uint64_t version, store->Publish(snapshot, publish));
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  uint64_t table_params = 0, full_params = 0;
  for (const TableSpec& t : snapshot.manifest.tables()) {
    table_params += TableParameters(t);
    full_params += t.n() * t.d();
  }
  std::printf("published version %lu to %s: %s in %zu tensors, embedding ratio %.2fx, %.2f s\n",
              version, store->path().c_str(), FormatBytes(ManifestBytes(snapshot.manifest)).c_str(),
              snapshot.tensors.size(), static_cast<double>(full_params) / table_params, seconds);
  if (demo.user_mode == snapshot::USER_MODE_HISTORY) {
    store.reset();  // one primary per store at a time
    const uint64_t wanted = absl::GetFlag(FLAGS_history_users);
    const uint64_t users = wanted == 0 ? std::min<uint64_t>(demo.users, 100000)
                                       : std::min<uint64_t>(wanted, demo.users);
    ASSIGN_OR_RETURN(auto histories, HistoryStore::OpenWriter(absl::GetFlag(FLAGS_store)));
    ASSIGN_OR_RETURN(AppendStats stats, histories->Append(MakeDemoHistories(demo, users),
                                                          absl::GetFlag(FLAGS_history_cap)));
    std::printf("stored demo histories of %lu users (%lu item ids)\n", users, stats.items_read);
  }
  return absl::OkStatus();
}

absl::Status ImportHistories(const std::string& path) {
  ASSIGN_OR_RETURN(LogFormat format, ParseLogFormat(absl::GetFlag(FLAGS_format)));
  const auto start = std::chrono::steady_clock::now();
  ASSIGN_OR_RETURN(Dataset log, ReadInteractions(path, format));
  StoreOptions store_options;
  store_options.create_if_missing = true;
  ASSIGN_OR_RETURN(auto store, HistoryStore::OpenWriter(absl::GetFlag(FLAGS_store), store_options));
  ASSIGN_OR_RETURN(AppendStats stats,
                   store->Append(UserHistoriesOf(log), absl::GetFlag(FLAGS_history_cap)));
  ASSIGN_OR_RETURN(HistoryStats totals, store->Stats());
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::printf(
      "appended %lu interactions to the histories of %lu users (%lu new) in %s, %.2f s; the "
      "store holds about %lu users' histories in %s\n",
      stats.items_read, stats.users, stats.new_users, store->path().c_str(), seconds, totals.users,
      FormatBytes(totals.table_bytes).c_str());
  return absl::OkStatus();
}

absl::Status ShowHistory(uint64_t user_id) {
  ASSIGN_OR_RETURN(auto store, HistoryStore::OpenReader(absl::GetFlag(FLAGS_store)));
  std::vector<uint64_t> items;
  RETURN_IF_ERROR(store->Read(user_id, &items));
  if (items.empty()) {
    std::printf("user %lu: no stored history\n", user_id);
    return absl::OkStatus();
  }
  std::printf("user %lu: %zu items, oldest first\n%s\n", user_id, items.size(),
              absl::StrJoin(items, ",").c_str());
  return absl::OkStatus();
}

absl::Status HistoryStatsCommand() {
  ASSIGN_OR_RETURN(auto store, HistoryStore::OpenReader(absl::GetFlag(FLAGS_store)));
  ASSIGN_OR_RETURN(HistoryStats stats, store->Stats());
  std::printf("about %lu users with a stored history, %s of table files\n", stats.users,
              FormatBytes(stats.table_bytes).c_str());
  return absl::OkStatus();
}

absl::Status History(const std::vector<char*>& args) {
  const std::string sub = args.size() > 2 ? args[2] : "";
  if (sub == "stats" && args.size() == 3) return HistoryStatsCommand();
  if (sub == "import" && args.size() == 4) return ImportHistories(args[3]);
  uint64_t user_id = 0;
  if (sub == "show" && args.size() == 4) {
    if (!absl::SimpleAtoi(args[3], &user_id)) {
      return absl::InvalidArgumentError(absl::StrCat("history show: bad USER '", args[3], "'"));
    }
    return ShowHistory(user_id);
  }
  return absl::InvalidArgumentError(
      "usage: ranker-store history import FILE | show USER | stats (see --help)");
}

absl::Status List() {
  ASSIGN_OR_RETURN(auto store, SnapshotStore::OpenSecondary(absl::GetFlag(FLAGS_store)));
  ASSIGN_OR_RETURN(std::vector<uint64_t> versions, store->ListVersions());
  ASSIGN_OR_RETURN(std::optional<uint64_t> latest, store->Latest());
  if (versions.empty()) {
    std::printf("no versions in %s\n", store->path().c_str());
    return absl::OkStatus();
  }
  std::printf("%-10s %-21s %12s  %s\n", "VERSION", "CREATED", "SIZE", "PRODUCER");
  for (uint64_t version : versions) {
    ASSIGN_OR_RETURN(Manifest manifest, store->ReadManifest(version));
    auto tool = manifest.producer().find("tool");
    std::printf("%-10lu %-21s %12s  %s%s\n", version,
                FormatTime(manifest.created_unix_seconds()).c_str(),
                FormatBytes(ManifestBytes(manifest)).c_str(),
                tool == manifest.producer().end() ? "-" : tool->second.c_str(),
                latest && *latest == version ? "  (latest)" : "");
  }
  return absl::OkStatus();
}

absl::Status Inspect(uint64_t version) {
  ASSIGN_OR_RETURN(auto store, SnapshotStore::OpenSecondary(absl::GetFlag(FLAGS_store)));
  ASSIGN_OR_RETURN(Manifest manifest, store->ReadManifest(version));
  std::printf("version %lu, created %s, format %u, user mode %s\n", manifest.version(),
              FormatTime(manifest.created_unix_seconds()).c_str(), manifest.format_version(),
              manifest.user_mode() == snapshot::USER_MODE_HISTORY ? "history" : "id");
  std::vector<std::string> keys;
  for (const auto& [key, value] : manifest.producer()) keys.push_back(key);
  std::sort(keys.begin(), keys.end());
  for (const std::string& key : keys) {
    std::printf("  producer.%s: %s\n", key.c_str(), manifest.producer().at(key).c_str());
  }
  for (const TableSpec& t : manifest.tables()) {
    std::printf(
        "  table %-5s kind=%-6s n=%lu m=%lu d=%u hash=%s rows=%s id_map=%s params=%lu "
        "ratio=%.2fx\n",
        t.feature().c_str(), TableKindName(t.kind()).c_str(), t.n(), t.m(), t.d(),
        HashName(t).c_str(), RowDTypeName(t.row_dtype()).c_str(), t.has_id_map() ? "yes" : "no",
        TableParameters(t),
        static_cast<double>(t.n() * t.d()) / std::max<uint64_t>(1, TableParameters(t)));
  }
  std::printf("  scorer widths=%s dot_weight=%g\n",
              absl::StrJoin(manifest.scorer().widths(), "-").c_str(),
              manifest.scorer().dot_weight());
  for (const TensorSpec& t : manifest.tensors()) {
    std::printf("  tensor %-18s %-7s [%s] %s crc32c=%08x chunks=%u\n", t.name().c_str(),
                snapshot::DType_Name(t.dtype()).c_str(), absl::StrJoin(t.shape(), ",").c_str(),
                FormatBytes(t.byte_size()).c_str(), t.crc32c(), t.chunk_count());
  }
  return absl::OkStatus();
}

absl::Status Verify(uint64_t version) {
  ASSIGN_OR_RETURN(auto store, SnapshotStore::OpenSecondary(absl::GetFlag(FLAGS_store)));
  const auto start = std::chrono::steady_clock::now();
  ASSIGN_OR_RETURN(auto model, LoadModel(*store, version));
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::printf("version %lu OK: %s loaded and verified in %.3f s (%.2f GB/s), ratio %.2fx\n",
              version, FormatBytes(model->resident_bytes()).c_str(), seconds,
              static_cast<double>(model->resident_bytes()) / seconds / 1e9,
              model->compression_ratio());
  return absl::OkStatus();
}

absl::Status Gc() {
  ASSIGN_OR_RETURN(auto store, SnapshotStore::OpenPrimary(absl::GetFlag(FLAGS_store)));
  ASSIGN_OR_RETURN(std::vector<uint64_t> removed, store->CollectGarbage(absl::GetFlag(FLAGS_keep)));
  if (removed.empty()) {
    std::printf("nothing to remove\n");
  } else {
    std::printf("removed versions %s\n", absl::StrJoin(removed, ", ").c_str());
  }
  return absl::OkStatus();
}

absl::Status Import() {
  if (absl::GetFlag(FLAGS_spec).empty()) return absl::InvalidArgumentError("--spec is required");
  ASSIGN_OR_RETURN(Snapshot snapshot, ImportSnapshot(absl::GetFlag(FLAGS_spec)));
  // Build the Model from a copy first: a snapshot the server would refuse is never published.
  ASSIGN_OR_RETURN(TensorMap copy, CopyTensors(snapshot.tensors));
  ASSIGN_OR_RETURN(auto model, Model::Create(snapshot.manifest, std::move(copy)));
  StoreOptions store_options;
  store_options.create_if_missing = true;
  ASSIGN_OR_RETURN(auto store,
                   SnapshotStore::OpenPrimary(absl::GetFlag(FLAGS_store), store_options));
  ASSIGN_OR_RETURN(uint64_t version, store->Publish(snapshot));
  std::printf("imported version %lu into %s: %s, embedding ratio %.2fx\n", version,
              store->path().c_str(), FormatBytes(model->resident_bytes()).c_str(),
              model->compression_ratio());
  return absl::OkStatus();
}

absl::Status Run(const std::vector<char*>& args) {
  if (args.size() < 2) return absl::InvalidArgumentError("no command given (see --help)");
  const std::string command = args[1];
  if (command == "history") return History(args);
  if (command == "export") {
    uint64_t version = 0;
    if (args.size() > 2) {
      ASSIGN_OR_RETURN(version, ParseVersion(args));
    }
    return RunExport(absl::GetFlag(FLAGS_store), version, absl::GetFlag(FLAGS_to));
  }
  const bool takes_version = command == "inspect" || command == "verify";
  if (!takes_version && args.size() > 2) {
    return absl::InvalidArgumentError(absl::StrCat("unexpected argument '", args[2], "'"));
  }
  if (command == "init") return Init();
  if (command == "demo") return Demo();
  if (command == "list") return List();
  if (command == "gc") return Gc();
  if (command == "import") return Import();
  if (command == "pull") {
    return RunPull(absl::GetFlag(FLAGS_from), absl::GetFlag(FLAGS_store),
                   absl::GetFlag(FLAGS_follow), absl::GetFlag(FLAGS_keep));
  }
  if (takes_version) {
    ASSIGN_OR_RETURN(uint64_t version, ParseVersion(args));
    return command == "inspect" ? Inspect(version) : Verify(version);
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
      ranker::ParseToolCommandLine(argc, argv, ranker::kUsage, "ranker_store_main");
  absl::Status status = ranker::Run(args);
  if (!status.ok()) {
    std::fprintf(stderr, "ranker-store: %s\n", status.ToString().c_str());
    return status.code() == absl::StatusCode::kInvalidArgument ? 2 : 1;
  }
  return 0;
}
