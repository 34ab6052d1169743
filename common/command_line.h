// Command-line set-up shared by the tools (ranker-server, ranker-client, ranker-store,
// ranker-train, ranker-experiments): a usage message, --help listing only the tool's own flags (not
// the dozens Abseil and gRPC define) under their source file relative to the project, then absl
// flag parsing. Header-only: each tool links absl::flags.
#ifndef RANKER_COMMON_COMMAND_LINE_H_
#define RANKER_COMMON_COMMAND_LINE_H_

#include <string>
#include <vector>

#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "absl/flags/usage_config.h"
#include "absl/strings/match.h"
#include "absl/strings/string_view.h"

namespace ranker {

// `flags_sources` are parts of the paths of the files that define the tool's flags (e.g.
// "server_main"); --help shows the flags of matching files. Returns the positional arguments
// (argv[0] first). `usage` must outlive the call (a string literal).
inline std::vector<char*> ParseToolCommandLine(int argc, char** argv, absl::string_view usage,
                                               std::vector<std::string> flags_sources) {
  absl::SetProgramUsageMessage(usage);
  absl::FlagsUsageConfig config;
  config.contains_help_flags = [flags_sources](absl::string_view file) {
    for (const std::string& source : flags_sources) {
      if (absl::StrContains(file, source)) return true;
    }
    return false;
  };
  config.contains_helpshort_flags = config.contains_help_flags;
  // "client/ranker_client_main.cc", not the build machine's absolute source path.
  config.normalize_filename = [](absl::string_view file) {
    const size_t last = file.rfind('/');
    const size_t folder = last == absl::string_view::npos || last == 0 ? absl::string_view::npos
                                                                       : file.rfind('/', last - 1);
    return std::string(folder == absl::string_view::npos ? file : file.substr(folder + 1));
  };
  absl::SetFlagsUsageConfig(config);
  return absl::ParseCommandLine(argc, argv);
}

}  // namespace ranker

#endif  // RANKER_COMMON_COMMAND_LINE_H_
