// The ranker-store commands, one file per family: versions (init, list, inspect, verify, gc:
// version_commands.cc), publishing (demo, import: publish_commands.cc), stored histories
// (history_commands.cc) and the snapshot repository (export, pull: repository_commands.h).
// Each takes what its flags gave, prints for people, and returns a status; INVALID_ARGUMENT
// means bad usage (ranker-store exits 2), anything else a failure (exit 1).
#ifndef RANKER_MODEL_STORE_CLI_STORE_COMMANDS_H_
#define RANKER_MODEL_STORE_CLI_STORE_COMMANDS_H_

#include <cstdint>
#include <string>

#include "absl/status/status.h"
#include "model/demo_model.h"

namespace ranker {

// Versions. Read-only commands open the store as a RocksDB secondary, so they work while a
// server or publisher has it open.
absl::Status RunInit(const std::string& store);
absl::Status RunList(const std::string& store);
absl::Status RunInspect(const std::string& store, uint64_t version);
absl::Status RunVerify(const std::string& store, uint64_t version);
absl::Status RunGc(const std::string& store, uint32_t keep);

// Publishing.
struct DemoCommand {
  DemoModelOptions model;
  uint64_t version = 0;  // 0 = latest + 1
  uint32_t chunk_kib = 4096;
  uint64_t history_users = 0;  // history models: users given a demo history (0 = min(users, 1e5))
  uint32_t history_cap = 200;
  bool crash_before_commit = false;  // testing: exit(3) before the final batch
};
absl::Status RunDemo(const std::string& store, const DemoCommand& command);
// Publishes the tables and scorer a description file names (model_store/import_spec.h).
absl::Status RunImport(const std::string& store, const std::string& spec_path);

// Stored histories.
absl::Status RunHistoryImport(const std::string& store, const std::string& log_path,
                              const std::string& format, uint32_t history_cap);
absl::Status RunHistoryShow(const std::string& store, uint64_t user_id);
absl::Status RunHistoryStats(const std::string& store);
absl::Status RunHistoryDigest(const std::string& store);

// The fleet's event stream (events/jetstream.h).
struct EventStreamFlags {
  std::string nats_url;
  std::string stream = "RANKER_EVENTS";
  std::string subject_prefix = "ranker.events";
  uint32_t history_cap = 200;
};
// Writes every interaction in the stream stamped at or after `since_unix_ms` to stdout as the
// trainer's CSV (user,item,rating,timestamp_ms), in stream order.
absl::Status RunEventsExport(const EventStreamFlags& flags, int64_t since_unix_ms);
// The exposure log in `dir` (exposures/exposure_file.h) as CSV on stdout, records stamped at or
// after since_unix_ms; a summary (and any torn end) on stderr.
absl::Status RunExposures(const std::string& dir, int64_t since_unix_ms);
// The same from a fleet's exposure stream (exposures/exposure_stream.h) on the broker at `url`.
absl::Status RunExposureStream(const std::string& url, int64_t since_unix_ms);
// Publishes each user's history in the store's history family to the stream.
absl::Status RunHistoryPublish(const EventStreamFlags& flags, const std::string& store);
// Publishes each user's newest history_cap items of the log at `path` to the stream.
absl::Status RunEventsImport(const EventStreamFlags& flags, const std::string& path,
                             const std::string& format);

}  // namespace ranker

#endif  // RANKER_MODEL_STORE_CLI_STORE_COMMANDS_H_
