#include "common/files.h"

#include <dirent.h>
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <memory>
#include <system_error>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "common/crc32c.h"

namespace ranker {
namespace {

// Closes the descriptor when it goes out of scope.
class FileDescriptor {
 public:
  explicit FileDescriptor(int fd) : fd_(fd) {}
  FileDescriptor(const FileDescriptor&) = delete;
  FileDescriptor& operator=(const FileDescriptor&) = delete;
  ~FileDescriptor() {
    if (fd_ >= 0) close(fd_);
  }
  int get() const { return fd_; }
  bool valid() const { return fd_ >= 0; }

 private:
  int fd_;
};

absl::Status WriteAll(int fd, const char* data, size_t size, const std::string& path) {
  while (size > 0) {
    const ssize_t put = write(fd, data, size);
    if (put < 0 && errno == EINTR) continue;
    if (put < 0) return FileError(errno, "cannot write", path);
    data += put;
    size -= static_cast<size_t>(put);
  }
  return absl::OkStatus();
}

std::string ParentDirectory(const std::string& path) {
  const std::string parent = std::filesystem::path(path).parent_path().string();
  return parent.empty() ? "." : parent;
}

}  // namespace

absl::Status FileError(int errno_value, absl::string_view what, absl::string_view path) {
  return absl::ErrnoToStatus(errno_value, absl::StrCat(what, " '", path, "'"));
}

absl::StatusOr<std::string> ReadFileToString(const std::string& path, absl::string_view what) {
  FileDescriptor fd(open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd.valid()) {
    const int error = errno;  // before StrCat, which may allocate
    return FileError(error, absl::StrCat("cannot read ", what), path);
  }
  std::string contents;
  char buffer[1 << 16];
  for (;;) {
    const ssize_t got = read(fd.get(), buffer, sizeof(buffer));
    if (got < 0 && errno == EINTR) continue;
    if (got < 0) {
      const int error = errno;
      return FileError(error, absl::StrCat("error reading ", what), path);
    }
    if (got == 0) return contents;
    contents.append(buffer, static_cast<size_t>(got));
  }
}

absl::StatusOr<std::string> ReadTokenFile(const std::string& path) {
  absl::StatusOr<std::string> contents = ReadFileToString(path, "the token file");
  if (!contents.ok()) return contents.status();
  std::string token(absl::StripAsciiWhitespace(*contents));
  if (token.empty()) {
    return absl::InvalidArgumentError(absl::StrCat("token file ", path, " is empty"));
  }
  return token;
}

absl::Status WriteFileAtomically(const std::string& path, absl::string_view contents) {
  // Unique per call: two threads writing the same path never share a temporary.
  static std::atomic<uint64_t> calls{0};
  const std::string temporary =
      absl::StrCat(path, ".tmp-", getpid(), "-", calls.fetch_add(1, std::memory_order_relaxed));
  {
    FileDescriptor fd(open(temporary.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644));
    if (!fd.valid()) return FileError(errno, "cannot create", temporary);
    absl::Status written = WriteAll(fd.get(), contents.data(), contents.size(), temporary);
    if (written.ok() && fsync(fd.get()) != 0) written = FileError(errno, "cannot sync", temporary);
    if (!written.ok()) {
      unlink(temporary.c_str());
      return written;
    }
  }
  if (rename(temporary.c_str(), path.c_str()) != 0) {
    const absl::Status renamed = FileError(errno, "cannot rename", temporary);
    unlink(temporary.c_str());
    return renamed;
  }
  return SyncPath(ParentDirectory(path));
}

absl::Status SyncPath(const std::string& path) {
  FileDescriptor fd(open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd.valid()) return FileError(errno, "cannot open", path);
  if (fsync(fd.get()) != 0) return FileError(errno, "cannot sync", path);
  return absl::OkStatus();
}

absl::StatusOr<FileChecksum> CopyFileWithChecksum(const std::string& from, const std::string& to) {
  FileDescriptor in(open(from.c_str(), O_RDONLY | O_CLOEXEC));
  if (!in.valid()) return FileError(errno, "cannot open", from);
  FileDescriptor out(to.empty() ? -1
                                : open(to.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644));
  if (!to.empty() && !out.valid()) return FileError(errno, "cannot create", to);
  // Large reads: pulls copy gigabytes, and the checksum runs at memory speed.
  constexpr size_t kBufferBytes = size_t{4} << 20;
  std::unique_ptr<char[]> buffer(new char[kBufferBytes]);
  FileChecksum sum;
  for (;;) {
    const ssize_t got = read(in.get(), buffer.get(), kBufferBytes);
    if (got < 0 && errno == EINTR) continue;
    if (got < 0) return FileError(errno, "cannot read", from);
    if (got == 0) break;
    sum.crc32c = Crc32c(buffer.get(), static_cast<size_t>(got), sum.crc32c);
    sum.bytes += static_cast<uint64_t>(got);
    if (out.valid()) {
      absl::Status written = WriteAll(out.get(), buffer.get(), static_cast<size_t>(got), to);
      if (!written.ok()) return written;
    }
  }
  if (out.valid() && fsync(out.get()) != 0) return FileError(errno, "cannot sync", to);
  return sum;
}

absl::StatusOr<std::vector<std::string>> ListDirectory(const std::string& path) {
  std::unique_ptr<DIR, int (*)(DIR*)> dir(opendir(path.c_str()), closedir);
  if (dir == nullptr) return FileError(errno, "cannot list", path);
  std::vector<std::string> names;
  errno = 0;
  while (const dirent* entry = readdir(dir.get())) {
    const absl::string_view name = entry->d_name;
    if (name != "." && name != "..") names.emplace_back(name);
    errno = 0;
  }
  if (errno != 0) return FileError(errno, "cannot list", path);
  std::sort(names.begin(), names.end());
  return names;
}

absl::Status CreateDirectories(const std::string& path) {
  std::error_code error;
  std::filesystem::create_directories(path, error);
  if (error) return FileError(error.value(), "cannot create directory", path);
  return absl::OkStatus();
}

}  // namespace ranker
