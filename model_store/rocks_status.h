// RocksDB statuses as absl::Status, with the code a caller can act on: NotFound -> NOT_FOUND,
// Corruption -> DATA_LOSS, no space -> RESOURCE_EXHAUSTED, busy/timeouts -> UNAVAILABLE,
// invalid argument -> FAILED_PRECONDITION, anything else INTERNAL. `context` starts the message.
#ifndef RANKER_MODEL_STORE_ROCKS_STATUS_H_
#define RANKER_MODEL_STORE_ROCKS_STATUS_H_

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "rocksdb/status.h"

namespace ranker {

inline absl::Status FromRocks(const rocksdb::Status& s, absl::string_view context) {
  if (s.ok()) return absl::OkStatus();
  const std::string message = absl::StrCat(context, ": ", s.ToString());
  if (s.IsNotFound()) return absl::NotFoundError(message);
  if (s.IsCorruption()) return absl::DataLossError(message);
  if (s.IsIOError() && s.IsNoSpace()) return absl::ResourceExhaustedError(message);
  if (s.IsBusy() || s.IsTimedOut() || s.IsTryAgain()) return absl::UnavailableError(message);
  if (s.IsInvalidArgument()) return absl::FailedPreconditionError(message);
  return absl::InternalError(message);
}

}  // namespace ranker

#endif  // RANKER_MODEL_STORE_ROCKS_STATUS_H_
