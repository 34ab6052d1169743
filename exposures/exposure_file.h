// The exposure log's files: a directory of append-only files named exposures-<N>.log (N counts
// up from 1, zero-padded to 10 digits so names sort in writing order), each a sequence of
// records: little-endian uint32 length L, L bytes of a serialized ranker.v1.Exposure, and the
// little-endian CRC-32C of those L bytes. A crash can leave the newest file with a torn last
// record; readers stop at it and say so, every earlier record intact.
#ifndef RANKER_EXPOSURES_EXPOSURE_FILE_H_
#define RANKER_EXPOSURES_EXPOSURE_FILE_H_

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "proto/exposure.pb.h"

namespace ranker {

// Appends `exposure`'s record to *out.
void AppendExposureRecord(const v1::Exposure& exposure, std::string* out);

// "exposures-0000000007.log" for 7.
std::string ExposureFileName(uint64_t number);
// The exposure files in `dir`, oldest first (an absent directory has none); other files are
// ignored.
absl::StatusOr<std::vector<std::string>> ListExposureFiles(const std::string& dir);

struct ExposureReadStats {
  uint64_t records = 0;
  bool torn_tail = false;  // the file ended inside a record (the writer was cut off)
};

// Calls `visit` for each record of the file at `path`, in order. DATA_LOSS naming the file and
// offset for a record whose checksum or message does not match (a damaged file, not a torn
// end); NOT_FOUND if the file does not exist.
absl::StatusOr<ExposureReadStats> ReadExposureFile(
    const std::string& path, const std::function<void(const v1::Exposure&)>& visit);

}  // namespace ranker

#endif  // RANKER_EXPOSURES_EXPOSURE_FILE_H_
