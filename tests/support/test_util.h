// Helpers shared by the tests: temporary directories, child processes and the paths of the
// built binaries. No RocksDB: the model/ tests link this alone (store damage is in
// store_damage.h).
#ifndef RANKER_TESTS_SUPPORT_TEST_UTIL_H_
#define RANKER_TESTS_SUPPORT_TEST_UTIL_H_

#include <sys/types.h>

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/time/time.h"

namespace ranker::testing {

// A fresh directory under $TMPDIR, removed with everything in it on destruction.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::string& path() const { return path_; }
  std::string Sub(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

// A child process with its stdout and stderr captured to files. Killed (SIGKILL) on
// destruction if still running.
class Subprocess {
 public:
  explicit Subprocess(std::vector<std::string> argv);
  ~Subprocess();
  Subprocess(const Subprocess&) = delete;
  Subprocess& operator=(const Subprocess&) = delete;

  pid_t pid() const { return pid_; }
  // Waits until stdout contains `text`; false on timeout or if the process exited first.
  bool WaitForOutput(const std::string& text, absl::Duration timeout);
  void Signal(int signal_number);
  // Waits for exit and returns the exit code, or 128 + signal, or -1 on timeout.
  int Wait(absl::Duration timeout);
  std::string Stdout() const;
  std::string Stderr() const;

 private:
  pid_t pid_ = -1;
  bool exited_ = false;
  int exit_code_ = -1;
  std::string stdout_path_, stderr_path_;
};

// Runs a command to completion; returns its exit code and fills stdout/stderr.
int RunCommand(const std::vector<std::string>& argv, std::string* out, std::string* err);

// The directory holding the project's built binaries (set by CMake).
std::string BinaryPath(const std::string& name);

}  // namespace ranker::testing

#endif  // RANKER_TESTS_SUPPORT_TEST_UTIL_H_
