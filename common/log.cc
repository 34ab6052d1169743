#include "common/log.h"

#include <sys/time.h>

#include <cstdio>
#include <ctime>
#include <string>

namespace ranker {

void LogLine(LogLevel level, absl::string_view message) {
  struct timeval now;
  gettimeofday(&now, nullptr);
  struct tm tm_utc;
  gmtime_r(&now.tv_sec, &tm_utc);
  char stamp[32];
  strftime(stamp, sizeof(stamp), "%Y-%m-%dT%H:%M:%S", &tm_utc);
  const char* tag = level == LogLevel::kInfo ? "I" : level == LogLevel::kWarning ? "W" : "E";
  std::string line = absl::StrCat(
      tag, " ", stamp, ".", absl::Dec(now.tv_usec / 1000, absl::kZeroPad3), "Z ", message, "\n");
  std::fwrite(line.data(), 1, line.size(), stderr);
}

}  // namespace ranker
