// Byte counts for people: "512 B", "1.5 KiB", "3.2 GiB" (binary units, one decimal).
#ifndef RANKER_COMMON_FORMAT_BYTES_H_
#define RANKER_COMMON_FORMAT_BYTES_H_

#include <cstdint>
#include <string>

namespace ranker {

std::string FormatBytes(uint64_t bytes);

}  // namespace ranker

#endif  // RANKER_COMMON_FORMAT_BYTES_H_
