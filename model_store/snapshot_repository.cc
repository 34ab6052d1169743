#include "model_store/snapshot_repository.h"

#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <filesystem>
#include <optional>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "common/crc32c.h"
#include "common/files.h"
#include "common/status_macros.h"
#include "model_store/snapshot_store.h"
#include "model_store/store_keys.h"

namespace ranker {
namespace {

namespace fs = std::filesystem;
namespace keys = store_keys;

constexpr char kContentsHeader[] = "ranker-snapshot-export/1";
constexpr char kContentsFile[] = "CONTENTS";
constexpr char kLatestFile[] = "LATEST";

struct ExportedFile {
  std::string name;
  StoreDb::Family family;
  uint64_t bytes = 0;
  uint32_t crc = 0;
};

std::string ContentsText(uint64_t version, const std::vector<ExportedFile>& files) {
  std::string text = absl::StrCat(kContentsHeader, "\nversion ", version, "\n");
  for (const ExportedFile& file : files) {
    absl::StrAppend(&text, "file ", file.name, " ", file.bytes, " ",
                    absl::StrFormat("%08x", file.crc), "\n");
  }
  return text;
}

absl::StatusOr<std::vector<ExportedFile>> ParseContents(const std::string& text, uint64_t version,
                                                        const std::string& path) {
  const auto malformed = [&](absl::string_view why) {
    return absl::DataLossError(absl::StrCat("'", path, "' is malformed: ", why));
  };
  std::vector<std::string> lines = absl::StrSplit(text, '\n', absl::SkipEmpty());
  if (lines.size() < 2 || lines[0] != kContentsHeader) return malformed("no header");
  if (lines[1] != absl::StrCat("version ", version)) return malformed("another version");
  std::vector<ExportedFile> files;
  for (size_t i = 2; i < lines.size(); ++i) {
    std::vector<std::string> fields = absl::StrSplit(lines[i], ' ');
    ExportedFile file;
    if (fields.size() != 4 || fields[0] != "file" || !absl::SimpleAtoi(fields[2], &file.bytes) ||
        !absl::SimpleHexAtoi(fields[3], &file.crc)) {
      return malformed(absl::StrCat("line ", i + 1));
    }
    file.name = fields[1];
    if (file.name == "manifest.sst") {
      file.family = StoreDb::Family::kDefault;
    } else if (file.name == "tensors.sst") {
      file.family = StoreDb::Family::kTensors;
    } else if (file.name == "history.sst") {
      file.family = StoreDb::Family::kHistory;
    } else {
      return malformed(absl::StrCat("unknown file '", file.name, "'"));
    }
    files.push_back(std::move(file));
  }
  bool has_manifest = false;
  for (const ExportedFile& file : files) has_manifest |= file.family == StoreDb::Family::kDefault;
  if (!has_manifest) return malformed("no manifest.sst");
  return files;
}

}  // namespace

absl::StatusOr<uint64_t> RepositoryLatest(const std::string& repo) {
  const std::string path = (fs::path(repo) / kLatestFile).string();
  std::error_code ec;
  if (!fs::exists(path, ec)) {
    return absl::NotFoundError(absl::StrCat("repository '", repo, "' has no LATEST yet"));
  }
  ASSIGN_OR_RETURN(std::string text, ReadFileToString(path, "repository pointer"));
  uint64_t version = 0;
  if (!absl::SimpleAtoi(text, &version) || version == 0) {
    return absl::DataLossError(absl::StrCat("'", path, "' does not hold a version"));
  }
  return version;
}

absl::StatusOr<ExportResult> ExportVersion(const std::string& store_path, uint64_t version,
                                           const std::string& repo, bool with_histories) {
  ASSIGN_OR_RETURN(std::unique_ptr<SnapshotStore> store, SnapshotStore::OpenSecondary(store_path));
  if (version == 0) {
    ASSIGN_OR_RETURN(std::optional<uint64_t> latest, store->Latest());
    if (!latest) return absl::NotFoundError(absl::StrCat("store '", store_path, "' is empty"));
    version = *latest;
  }
  RETURN_IF_ERROR(store->ReadManifest(version).status());
  RETURN_IF_ERROR(CreateDirectories(repo));
  std::error_code ec;
  const fs::path final_dir = fs::path(repo) / std::to_string(version);
  if (fs::exists(final_dir, ec)) {
    return absl::AlreadyExistsError(
        absl::StrCat("version ", version, " is already in '", repo, "' (exports are immutable)"));
  }
  const fs::path staging = fs::path(repo) / absl::StrCat(".export-", version, "-", getpid());
  fs::remove_all(staging, ec);
  RETURN_IF_ERROR(CreateDirectories(staging.string()));
  const auto fail = [&](absl::Status status) {
    fs::remove_all(staging, ec);
    return status;
  };

  ExportResult result;
  result.version = version;
  std::vector<ExportedFile> files;
  struct Part {
    const char* name;
    StoreDb::Family family;
    std::string begin, end;
  };
  std::vector<Part> parts = {{"tensors.sst", StoreDb::Family::kTensors,
                              keys::TensorRangeBegin(version), keys::TensorRangeEnd(version)},
                             {"manifest.sst", StoreDb::Family::kDefault, keys::ManifestKey(version),
                              keys::ManifestKey(version) + std::string(1, '\0')}};
  for (const Part& part : parts) {
    const std::string path = (staging / part.name).string();
    absl::StatusOr<StoreDb::TableFile> written =
        store->store_db().WriteTableFile(part.family, part.begin, part.end, path);
    if (!written.ok()) return fail(written.status());
    if (written->entries > 0) files.push_back({part.name, part.family});
  }
  // Histories are not versioned: the replica gets them as they are now.
  absl::StatusOr<std::unique_ptr<StoreDb>> histories =
      with_histories
          ? StoreDb::Open(store_path, {}, StoreDb::Role::kSecondary, StoreDb::OpenFor::kHistories)
          : absl::FailedPreconditionError("histories not asked for");
  if (histories.ok()) {
    const std::string path = (staging / "history.sst").string();
    absl::StatusOr<StoreDb::TableFile> written =
        (*histories)->WriteTableFile(StoreDb::Family::kHistory, "", "", path);
    if (!written.ok()) return fail(written.status());
    result.histories = written->entries;
    if (written->entries > 0) files.push_back({"history.sst", StoreDb::Family::kHistory});
  } else if (histories.status().code() != absl::StatusCode::kFailedPrecondition) {
    return fail(histories.status());
  }
  for (ExportedFile& file : files) {
    const std::string path = (staging / file.name).string();
    absl::StatusOr<FileChecksum> sum = CopyFileWithChecksum(path, "");
    if (!sum.ok()) return fail(sum.status());
    file.bytes = sum->bytes;
    file.crc = sum->crc32c;
    if (absl::Status status = SyncPath(path); !status.ok()) return fail(status);
    result.bytes += file.bytes;
  }
  if (absl::Status status =
          WriteFileAtomically((staging / kContentsFile).string(), ContentsText(version, files));
      !status.ok()) {
    return fail(status);
  }
  if (rename(staging.c_str(), final_dir.c_str()) != 0) {
    return fail(FileError(errno, "cannot rename", staging.string()));
  }
  RETURN_IF_ERROR(SyncPath(repo));
  // LATEST never moves back: exporting an older version adds it without advertising it.
  absl::StatusOr<uint64_t> current = RepositoryLatest(repo);
  if (!current.ok() && current.status().code() != absl::StatusCode::kNotFound) {
    return current.status();
  }
  if (!current.ok() || *current < version) {
    RETURN_IF_ERROR(
        WriteFileAtomically((fs::path(repo) / kLatestFile).string(), absl::StrCat(version, "\n")));
    result.moved_latest = true;
  }
  return result;
}

absl::StatusOr<PullResult> PullLatest(const std::string& repo, const std::string& store_path,
                                      size_t keep_versions) {
  const auto start = std::chrono::steady_clock::now();
  PullResult result;
  ASSIGN_OR_RETURN(result.version, RepositoryLatest(repo));
  // Nothing to ingest and nothing to drop: answer from a reader. Opening the primary writes a
  // new MANIFEST, and every server reading the store opens it afresh after one (SnapshotStore::
  // CatchUp), so a pull loop that found nothing would make them all reopen at every pull.
  if (absl::StatusOr<std::unique_ptr<SnapshotStore>> reader =
          SnapshotStore::OpenSecondary(store_path);
      reader.ok()) {
    absl::StatusOr<std::optional<uint64_t>> local_latest = (*reader)->Latest();
    absl::StatusOr<std::vector<uint64_t>> versions = (*reader)->ListVersions();
    if (local_latest.ok() && *local_latest && **local_latest >= result.version && versions.ok() &&
        (keep_versions == 0 || versions->size() <= keep_versions)) {
      return result;
    }
  }
  ASSIGN_OR_RETURN(std::unique_ptr<SnapshotStore> store,
                   SnapshotStore::OpenPrimary(store_path, {.create_if_missing = true}));
  ASSIGN_OR_RETURN(std::optional<uint64_t> local_latest, store->Latest());
  // Dropping old versions is retried at every pull (a no-op when there is nothing to drop), so
  // one that failed after its ingest, or a store that had too many before, is put right.
  const auto drop_old = [&]() -> absl::Status {
    if (keep_versions == 0) return absl::OkStatus();
    absl::StatusOr<std::vector<uint64_t>> removed = store->DropOldVersions(keep_versions);
    if (!removed.ok()) {
      return absl::Status(removed.status().code(),
                          absl::StrCat("version ", result.version,
                                       " is in the store, but older versions could not be "
                                       "removed: ",
                                       removed.status().message()));
    }
    result.removed = *std::move(removed);
    return absl::OkStatus();
  };
  if (local_latest && *local_latest >= result.version) {
    RETURN_IF_ERROR(drop_old());
    return result;
  }
  if (store->ReadManifest(result.version).ok()) {  // ingested before, latest not moved yet
    RETURN_IF_ERROR(store->SetLatest(result.version));
    result.ingested = true;
    RETURN_IF_ERROR(drop_old());
    return result;
  }
  const fs::path version_dir = fs::path(repo) / std::to_string(result.version);
  const std::string contents_path = (version_dir / kContentsFile).string();
  absl::StatusOr<std::string> contents = ReadFileToString(contents_path, "export contents");
  if (!contents.ok()) {
    return absl::DataLossError(absl::StrCat("repository '", repo, "' names version ",
                                            result.version, " but ", contents.status().message()));
  }
  ASSIGN_OR_RETURN(std::vector<ExportedFile> files,
                   ParseContents(*contents, result.version, contents_path));

  // Copies on the store's file system, checked, then moved into the store by the ingest.
  const fs::path staging = fs::path(store_path).parent_path() /
                           absl::StrCat(".", fs::path(store_path).filename().string(), ".pull-",
                                        result.version, "-", getpid());
  std::error_code ec;
  fs::remove_all(staging, ec);
  RETURN_IF_ERROR(CreateDirectories(staging.string()));
  const auto fail = [&](absl::Status status) {
    fs::remove_all(staging, ec);
    return status;
  };
  for (const ExportedFile& file : files) {
    const std::string from = (version_dir / file.name).string();
    // A file CONTENTS names but the repository lacks is a damaged export, not a lookup miss.
    if (!fs::exists(from, ec)) {
      return fail(absl::DataLossError(absl::StrCat("'", from, "' is missing")));
    }
    absl::StatusOr<FileChecksum> copied =
        CopyFileWithChecksum(from, (staging / file.name).string());
    if (!copied.ok()) return fail(copied.status());
    const uint64_t bytes = copied->bytes;
    const uint32_t crc = copied->crc32c;
    if (bytes != file.bytes || crc != file.crc) {
      return fail(absl::DataLossError(absl::StrFormat(
          "'%s' is damaged: %d bytes with CRC-32C %08x, CONTENTS says %d bytes with %08x; the "
          "store keeps its version %d",
          from, bytes, crc, file.bytes, file.crc, local_latest.value_or(0))));
    }
    result.bytes += bytes;
  }
  // Tensors and histories first, the manifest last, then latest: a server following the store
  // never sees a manifest whose chunks are not there yet.
  for (StoreDb::Family family :
       {StoreDb::Family::kTensors, StoreDb::Family::kHistory, StoreDb::Family::kDefault}) {
    for (const ExportedFile& file : files) {
      if (file.family != family) continue;
      if (absl::Status status =
              store->store_db().IngestTableFiles(family, {(staging / file.name).string()});
          !status.ok()) {
        return fail(status);
      }
    }
  }
  if (absl::Status status = store->SetLatest(result.version); !status.ok()) return fail(status);
  fs::remove_all(staging, ec);
  result.ingested = true;
  result.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  RETURN_IF_ERROR(drop_old());
  return result;
}

}  // namespace ranker
