// Reading small files the tools are pointed at (certificates, keys, tokens). Errors name the
// file and what it was for, and carry the system's reason.
#ifndef RANKER_COMMON_FILES_H_
#define RANKER_COMMON_FILES_H_

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace ranker {

// The whole file, byte for byte. NOT_FOUND if it cannot be opened, DATA_LOSS if reading fails;
// `what` (e.g. "--tls_ca file") starts the message.
absl::StatusOr<std::string> ReadFileToString(const std::string& path, absl::string_view what);

// A bearer token: the file's contents without surrounding whitespace. INVALID_ARGUMENT if
// that leaves nothing.
absl::StatusOr<std::string> ReadTokenFile(const std::string& path);

}  // namespace ranker

#endif  // RANKER_COMMON_FILES_H_
