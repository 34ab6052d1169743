// Runs another program (gnuplot, say) without a shell and waits for it. posix_spawnp with a
// working-directory action, so nothing runs between fork and exec in this process, and a
// program that cannot start is reported by the call itself.
#ifndef RANKER_COMMON_RUN_PROGRAM_H_
#define RANKER_COMMON_RUN_PROGRAM_H_

#include <string>
#include <vector>

#include "absl/status/status.h"

namespace ranker {

// Runs argv[0] (looked up on PATH) with `argv` in directory `dir` and waits for it. NOT_FOUND
// if the program or the directory does not exist, UNAVAILABLE if it cannot be started
// otherwise, INTERNAL with the exit code or signal if it fails. REQUIRES: argv is not empty.
absl::Status RunProgram(const std::string& dir, const std::vector<std::string>& argv);

}  // namespace ranker

#endif  // RANKER_COMMON_RUN_PROGRAM_H_
