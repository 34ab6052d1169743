// ranker-store's version commands: init, list, inspect, verify, gc.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <string>
#include <vector>

#include "absl/strings/str_join.h"
#include "common/format_bytes.h"
#include "common/status_macros.h"
#include "model/table_layout.h"
#include "model/table_sizing.h"
#include "model_store/cli/store_commands.h"
#include "model_store/model_loader.h"
#include "model_store/snapshot_store.h"
#include "model_store/tensor_specs.h"

namespace ranker {
namespace {

std::string FormatTime(int64_t unix_seconds) {
  char buffer[32];
  const time_t t = unix_seconds;
  struct tm tm_utc;
  gmtime_r(&t, &tm_utc);
  strftime(buffer, sizeof(buffer), "%Y-%m-%dT%H:%M:%SZ", &tm_utc);
  return buffer;
}

}  // namespace

absl::Status RunInit(const std::string& store_path) {
  StoreOptions options;
  options.create_if_missing = true;
  ASSIGN_OR_RETURN(auto store, SnapshotStore::OpenPrimary(store_path, options));
  std::printf("store ready at %s\n", store->path().c_str());
  return absl::OkStatus();
}

absl::Status RunList(const std::string& store_path) {
  ASSIGN_OR_RETURN(auto store, SnapshotStore::OpenSecondary(store_path));
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
                FormatBytes(ManifestTensorBytes(manifest)).c_str(),
                tool == manifest.producer().end() ? "-" : tool->second.c_str(),
                latest && *latest == version ? "  (latest)" : "");
  }
  return absl::OkStatus();
}

absl::Status RunInspect(const std::string& store_path, uint64_t version) {
  ASSIGN_OR_RETURN(auto store, SnapshotStore::OpenSecondary(store_path));
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
        HashName(t).c_str(), RowStorageName(RowStorageOf(t)).c_str(), t.has_id_map() ? "yes" : "no",
        TableParameters(t),
        // Bytes as stored: row storages (int8, pq, head/tail) shrink a table, not its params.
        static_cast<double>(t.n() * t.d() * sizeof(float)) /
            static_cast<double>(std::max<uint64_t>(1, StoredTableBytes(t))));
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

absl::Status RunVerify(const std::string& store_path, uint64_t version) {
  ASSIGN_OR_RETURN(auto store, SnapshotStore::OpenSecondary(store_path));
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

absl::Status RunGc(const std::string& store_path, uint32_t keep) {
  ASSIGN_OR_RETURN(auto store, SnapshotStore::OpenPrimary(store_path));
  ASSIGN_OR_RETURN(std::vector<uint64_t> removed, store->CollectGarbage(keep));
  if (removed.empty()) {
    std::printf("nothing to remove\n");
  } else {
    std::printf("removed versions %s\n", absl::StrJoin(removed, ", ").c_str());
  }
  return absl::OkStatus();
}

}  // namespace ranker
