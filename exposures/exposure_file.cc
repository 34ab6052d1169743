#include "exposures/exposure_file.h"

#include <algorithm>
#include <cstring>
#include <filesystem>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "common/crc32c.h"
#include "common/files.h"

namespace ranker {
namespace {

void AppendLittleEndian32(uint32_t value, std::string* out) {
  for (int b = 0; b < 4; ++b) out->push_back(static_cast<char>((value >> (8 * b)) & 0xFF));
}

uint32_t LittleEndian32(const char* bytes) {
  uint32_t value = 0;
  for (int b = 0; b < 4; ++b) value |= uint32_t{static_cast<uint8_t>(bytes[b])} << (8 * b);
  return value;
}

// A record larger than this is damage, not a response (k is capped far below).
constexpr uint32_t kMaxRecordBytes = 64 << 20;

}  // namespace

void AppendExposureRecord(const v1::Exposure& exposure, std::string* out) {
  const std::string bytes = exposure.SerializeAsString();
  AppendLittleEndian32(static_cast<uint32_t>(bytes.size()), out);
  out->append(bytes);
  AppendLittleEndian32(Crc32c(bytes.data(), bytes.size()), out);
}

std::string ExposureFileName(uint64_t number) {
  return absl::StrFormat("exposures-%010d.log", number);
}

absl::StatusOr<std::vector<std::string>> ListExposureFiles(const std::string& dir) {
  std::vector<std::string> files;
  std::error_code error;
  if (!std::filesystem::exists(dir, error)) return files;
  std::filesystem::directory_iterator it(dir, error), end;
  for (; !error && it != end; it.increment(error)) {
    const std::string name = it->path().filename().string();
    if (absl::StartsWith(name, "exposures-") && absl::EndsWith(name, ".log") &&
        name.size() == ExposureFileName(0).size()) {
      files.push_back(it->path().string());
    }
  }
  if (error) {
    return absl::UnavailableError(absl::StrCat("cannot list ", dir, ": ", error.message()));
  }
  std::sort(files.begin(), files.end());
  return files;
}

absl::StatusOr<ExposureReadStats> ReadExposureFile(
    const std::string& path, const std::function<void(const v1::Exposure&)>& visit) {
  std::error_code error;
  if (!std::filesystem::exists(path, error)) {
    return absl::NotFoundError(absl::StrCat("no exposure file ", path));
  }
  absl::StatusOr<std::string> read = ReadFileToString(path, "exposure file");
  if (!read.ok()) return read.status();
  const std::string& bytes = *read;
  ExposureReadStats stats;
  size_t at = 0;
  v1::Exposure exposure;
  while (at < bytes.size()) {
    if (bytes.size() - at < 4) {
      stats.torn_tail = true;
      break;
    }
    const uint32_t length = LittleEndian32(&bytes[at]);
    if (length > kMaxRecordBytes) {
      return absl::DataLossError(
          absl::StrCat(path, ": record at byte ", at, " claims ", length, " bytes"));
    }
    if (bytes.size() - at - 4 < uint64_t{length} + 4) {
      stats.torn_tail = true;
      break;
    }
    const char* message = &bytes[at + 4];
    if (Crc32c(message, length) != LittleEndian32(message + length) ||
        !exposure.ParseFromArray(message, static_cast<int>(length))) {
      return absl::DataLossError(
          absl::StrCat(path, ": record at byte ", at, " is damaged (checksum or message)"));
    }
    visit(exposure);
    ++stats.records;
    at += 8 + size_t{length};
  }
  return stats;
}

}  // namespace ranker
