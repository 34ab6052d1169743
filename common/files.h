// The one file layer every tool uses: reading, atomic writes, copies with a checksum, fsync of
// files and directories, directory listings. Errors name what was being done and the path,
// and carry the system's reason; their code comes from errno through FileError alone
// (absl::ErrnoToStatus: ENOENT NOT_FOUND, EACCES PERMISSION_DENIED, ENOSPC RESOURCE_EXHAUSTED,
// EEXIST ALREADY_EXISTS, ...), so a full disk reads the same wherever it happens.
#ifndef RANKER_COMMON_FILES_H_
#define RANKER_COMMON_FILES_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace ranker {

// "<what> '<path>': <strerror>" with the code absl::ErrnoToStatus gives `errno_value`.
absl::Status FileError(int errno_value, absl::string_view what, absl::string_view path);

// The whole file, byte for byte; `what` (e.g. "--tls_ca file") names it in errors.
absl::StatusOr<std::string> ReadFileToString(const std::string& path, absl::string_view what);

// A bearer token: the file's contents without surrounding whitespace. INVALID_ARGUMENT if
// that leaves nothing.
absl::StatusOr<std::string> ReadTokenFile(const std::string& path);

// Replaces `path` with `contents` through a temporary file in the same directory, fsynced and
// renamed over it, then fsyncs the directory: readers see the old file or the new one, never
// a part, and a crash after the call keeps the new one.
absl::Status WriteFileAtomically(const std::string& path, absl::string_view contents);

// fsync of a file or a directory (a directory's fsync makes renames and new entries durable).
absl::Status SyncPath(const std::string& path);

struct FileChecksum {
  uint64_t bytes = 0;
  uint32_t crc32c = 0;  // common/crc32c.h
};
// Streams `from` into `to` (which must not exist; fsynced when done) and returns the size and
// CRC-32C of what was copied. With an empty `to`, only reads and checksums `from`. On failure
// a partial `to` may remain: copy into a staging directory the caller removes.
absl::StatusOr<FileChecksum> CopyFileWithChecksum(const std::string& from, const std::string& to);

// The names in a directory (not "." or ".."), sorted.
absl::StatusOr<std::vector<std::string>> ListDirectory(const std::string& path);

// Creates `path` and its missing parents; OK if it already is a directory.
absl::Status CreateDirectories(const std::string& path);

}  // namespace ranker

#endif  // RANKER_COMMON_FILES_H_
