#include "common/run_program.h"

#include <spawn.h>
#include <sys/wait.h>

#include <cerrno>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

extern char** environ;

namespace ranker {

absl::Status RunProgram(const std::string& dir, const std::vector<std::string>& argv) {
  const std::string what = absl::StrCat("'", absl::StrJoin(argv, " "), "' in ", dir);
  std::vector<char*> args;
  for (const std::string& arg : argv) args.push_back(const_cast<char*>(arg.c_str()));
  args.push_back(nullptr);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addchdir_np(&actions, dir.c_str());
  pid_t pid = 0;
  const int error = posix_spawnp(&pid, args[0], &actions, nullptr, args.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  if (error == ENOENT) {
    return absl::NotFoundError(
        absl::StrCat("cannot run ", what, ": ", argv[0], " or the directory does not exist"));
  }
  if (error != 0) {
    return absl::UnavailableError(absl::StrCat("cannot start ", what, ": ", std::strerror(error)));
  }
  int wait_status = 0;
  while (waitpid(pid, &wait_status, 0) < 0) {
    if (errno != EINTR) return absl::ErrnoToStatus(errno, absl::StrCat("waiting for ", what));
  }
  if (WIFEXITED(wait_status) && WEXITSTATUS(wait_status) == 0) return absl::OkStatus();
  if (WIFSIGNALED(wait_status)) {
    return absl::InternalError(absl::StrCat(what, " killed by signal ", WTERMSIG(wait_status)));
  }
  return absl::InternalError(absl::StrCat(what, " exited with code ", WEXITSTATUS(wait_status)));
}

}  // namespace ranker
