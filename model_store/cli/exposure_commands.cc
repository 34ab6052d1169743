#include <cstdio>
#include <string>

#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "common/status_macros.h"
#include "events/history_publisher.h"
#include "exposures/exposure_file.h"
#include "exposures/exposure_stream.h"
#include "model_store/cli/store_commands.h"

namespace ranker {

namespace {

constexpr char kHeader[] =
    "time_ms,model,model_version,version_label,split,user_id,item_ids,scores\n";

void PrintExposure(const v1::Exposure& e) {
  std::printf("%ld,%s,%lu,%s,%d,%lu,%s,%s\n", e.time_ms(), e.model().c_str(), e.model_version(),
              e.version_label().c_str(), e.split() ? 1 : 0, e.user_id(),
              absl::StrJoin(e.item_ids(), " ").c_str(),
              absl::StrJoin(e.scores(), " ", [](std::string* out, float s) {
                absl::StrAppendFormat(out, "%.9g", s);  // round-trips
              }).c_str());
}

}  // namespace

absl::Status RunExposures(const std::string& dir, int64_t since_unix_ms) {
  ASSIGN_OR_RETURN(const std::vector<std::string> files, ListExposureFiles(dir));
  std::printf("%s", kHeader);
  uint64_t printed = 0, read = 0;
  for (const std::string& file : files) {
    const absl::StatusOr<ExposureReadStats> stats =
        ReadExposureFile(file, [&](const v1::Exposure& e) {
          ++read;
          if (e.time_ms() < since_unix_ms) return;
          ++printed;
          PrintExposure(e);
        });
    if (!stats.ok()) {  // what came before the damage is printed; the other files still are
      std::fprintf(stderr, "%s\n", stats.status().ToString().c_str());
      continue;
    }
    if (stats->torn_tail) {
      std::fprintf(stderr, "%s: ends inside a record (the writer was cut off); read up to it\n",
                   file.c_str());
    }
  }
  std::fprintf(stderr, "%lu exposures printed of %lu read from %zu files in %s\n", printed, read,
               files.size(), dir.c_str());
  return absl::OkStatus();
}

absl::Status RunExposureStream(const std::string& url, int64_t since_unix_ms) {
  ASSIGN_OR_RETURN(std::unique_ptr<JetStreamConnection> connection,
                   ConnectToStream(ExposureStreamOptions(url)));
  std::printf("%s", kHeader);
  uint64_t printed = 0, read = 0;
  ASSIGN_OR_RETURN(const uint64_t skipped,
                   ReadExposureStream(connection.get(), [&](const v1::Exposure& e) {
                     ++read;
                     if (e.time_ms() < since_unix_ms) return;
                     ++printed;
                     PrintExposure(e);
                   }));
  std::fprintf(stderr, "%lu exposures printed of %lu read from stream %s (%lu unusable, skipped)\n",
               printed, read, kExposureStream, skipped);
  return absl::OkStatus();
}

}  // namespace ranker
