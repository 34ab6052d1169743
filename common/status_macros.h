// Early-return helpers for absl::Status / absl::StatusOr (Abseil 20220623 ships none).
#ifndef RANKER_COMMON_STATUS_MACROS_H_
#define RANKER_COMMON_STATUS_MACROS_H_

#include "absl/status/status.h"
#include "absl/status/statusor.h"

#define RANKER_CONCAT_INNER(a, b) a##b
#define RANKER_CONCAT(a, b) RANKER_CONCAT_INNER(a, b)

// Returns the status from the enclosing function if `expr` is not OK.
#define RETURN_IF_ERROR(expr)                                         \
  do {                                                                \
    if (absl::Status ranker_status_ = (expr); !ranker_status_.ok()) { \
      return ranker_status_;                                          \
    }                                                                 \
  } while (false)

// `lhs = value of expr` or returns its error status from the enclosing function.
#define ASSIGN_OR_RETURN(lhs, expr) \
  ASSIGN_OR_RETURN_IMPL(RANKER_CONCAT(ranker_statusor_, __LINE__), lhs, expr)
#define ASSIGN_OR_RETURN_IMPL(statusor, lhs, expr) \
  auto statusor = (expr);                          \
  if (!statusor.ok()) return statusor.status();    \
  lhs = std::move(statusor).value()

#endif  // RANKER_COMMON_STATUS_MACROS_H_
