// Log lines to stderr for every tool: a level letter (I, W, E), a UTC timestamp to the
// millisecond, then the message as plain text (Abseil 20220623 has no absl/log). Thread-safe:
// each call writes one line with a single fwrite, so lines of concurrent callers never mix.
#ifndef RANKER_COMMON_LOG_H_
#define RANKER_COMMON_LOG_H_

#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"

namespace ranker {

enum class LogLevel { kInfo, kWarning, kError };

void LogLine(LogLevel level, absl::string_view message);

template <typename... Args>
void LogInfo(const Args&... args) {
  LogLine(LogLevel::kInfo, absl::StrCat(args...));
}
template <typename... Args>
void LogWarning(const Args&... args) {
  LogLine(LogLevel::kWarning, absl::StrCat(args...));
}
template <typename... Args>
void LogError(const Args&... args) {
  LogLine(LogLevel::kError, absl::StrCat(args...));
}

}  // namespace ranker

#endif  // RANKER_COMMON_LOG_H_
