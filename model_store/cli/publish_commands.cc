// ranker-store's publishing commands: demo (a deterministic synthetic model, and demo
// histories for a history model) and import (tables trained elsewhere, as .npy files).
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>

#include "common/format_bytes.h"
#include "common/status_macros.h"
#include "model/model.h"
#include "model/table_sizing.h"
#include "model_store/cli/store_commands.h"
#include "model_store/history_store.h"
#include "model_store/import_spec.h"
#include "model_store/snapshot_store.h"
#include "model_store/tensor_specs.h"

namespace ranker {

absl::Status RunDemo(const std::string& store_path, const DemoCommand& command) {
  const DemoModelOptions& demo = command.model;
  const auto start = std::chrono::steady_clock::now();
  ASSIGN_OR_RETURN(Snapshot snapshot, MakeDemoSnapshot(demo));
  StoreOptions store_options;
  store_options.create_if_missing = true;
  ASSIGN_OR_RETURN(auto store, SnapshotStore::OpenPrimary(store_path, store_options));
  // Marks the start of writing, for tests that kill the publisher at random points in it.
  std::printf("publishing to %s\n", store->path().c_str());
  std::fflush(stdout);
  PublishOptions publish;
  publish.version = command.version;
  publish.chunk_bytes = size_t{std::max<uint32_t>(1, command.chunk_kib)} << 10;
  if (command.crash_before_commit) {
    publish.before_commit = []() -> absl::Status {
      std::fprintf(stderr, "ranker-store: --crash_before_commit: exiting before the final batch\n");
      _exit(3);
    };
  }
  ASSIGN_OR_RETURN(uint64_t version, store->Publish(snapshot, publish));
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  // Bytes as stored: row storages (int8, pq, head/tail) shrink a table, not its params.
  uint64_t table_floats = 0, full_params = 0;
  for (const TableSpec& t : snapshot.manifest.tables()) {
    table_floats += StoredTableBytes(t) / sizeof(float);
    full_params += t.n() * t.d();
  }
  std::printf("published version %lu to %s: %s in %zu tensors, embedding ratio %.2fx, %.2f s\n",
              version, store->path().c_str(),
              FormatBytes(ManifestTensorBytes(snapshot.manifest)).c_str(), snapshot.tensors.size(),
              static_cast<double>(full_params) / table_floats, seconds);
  if (demo.user_mode == snapshot::USER_MODE_HISTORY) {
    store.reset();  // one primary per store at a time
    const uint64_t wanted = command.history_users;
    const uint64_t users = wanted == 0 ? std::min<uint64_t>(demo.users, 100000)
                                       : std::min<uint64_t>(wanted, demo.users);
    ASSIGN_OR_RETURN(auto histories, HistoryStore::OpenWriter(store_path));
    ASSIGN_OR_RETURN(AppendStats stats,
                     histories->Append(MakeDemoHistories(demo, users), command.history_cap));
    std::printf("stored demo histories of %lu users (%lu item ids)\n", users, stats.items_read);
  }
  return absl::OkStatus();
}

absl::Status RunImport(const std::string& store_path, const std::string& spec_path) {
  if (spec_path.empty()) return absl::InvalidArgumentError("--spec is required");
  ASSIGN_OR_RETURN(Snapshot snapshot, ImportSnapshot(spec_path));
  // Build the Model from a copy first: a snapshot the server would refuse is never published.
  ASSIGN_OR_RETURN(TensorMap copy, CopyTensors(snapshot.tensors));
  ASSIGN_OR_RETURN(auto model, Model::Create(snapshot.manifest, std::move(copy)));
  StoreOptions store_options;
  store_options.create_if_missing = true;
  ASSIGN_OR_RETURN(auto store, SnapshotStore::OpenPrimary(store_path, store_options));
  ASSIGN_OR_RETURN(uint64_t version, store->Publish(snapshot));
  std::printf("imported version %lu into %s: %s, embedding ratio %.2fx\n", version,
              store->path().c_str(), FormatBytes(model->resident_bytes()).c_str(),
              model->compression_ratio());
  return absl::OkStatus();
}

}  // namespace ranker
