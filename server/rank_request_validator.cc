#include "server/rank_request_validator.h"

#include "absl/strings/str_cat.h"

namespace ranker {

absl::Status ValidateRankRequest(const v1::RankRequest& request, const RankLimits& limits) {
  if (request.k() == 0) return absl::InvalidArgumentError("k must be at least 1");
  if (request.k() > limits.max_k) {
    return absl::InvalidArgumentError(
        absl::StrCat("k = ", request.k(), " exceeds the server's max_k = ", limits.max_k));
  }
  if (request.retrieve_n() > limits.max_retrieve_n) {
    return absl::InvalidArgumentError(
        absl::StrCat("retrieve_n = ", request.retrieve_n(),
                     " exceeds the server's max_retrieve_n = ", limits.max_retrieve_n));
  }
  if (static_cast<uint64_t>(request.candidate_ids_size()) > limits.max_candidates) {
    return absl::InvalidArgumentError(
        absl::StrCat(request.candidate_ids_size(),
                     " candidates exceed the server's max_candidates = ", limits.max_candidates));
  }
  if (static_cast<uint64_t>(request.exclude_ids_size()) > limits.max_candidates) {
    return absl::InvalidArgumentError(
        absl::StrCat(request.exclude_ids_size(),
                     " exclude_ids exceed the server's max_candidates = ", limits.max_candidates));
  }
  if (static_cast<uint64_t>(request.history_ids_size()) > limits.max_history_ids) {
    return absl::InvalidArgumentError(absl::StrCat(
        request.history_ids_size(),
        " history_ids exceed the server's max_history_ids = ", limits.max_history_ids));
  }
  return absl::OkStatus();
}

absl::Status CheckRequestFitsModel(const v1::RankRequest& request, const Model& model) {
  if (!model.history_mode() && request.history_ids_size() > 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("model version ", model.version(),
                     " ranks by user id (user_mode=id): history_ids need a history model"));
  }
  return absl::OkStatus();
}

absl::Status UnknownIdError(const RankResult::UnknownId& refused, const Model& model) {
  return absl::InvalidArgumentError(absl::StrCat(refused.is_user ? "user_id " : "candidate item ",
                                                 refused.id, " is unknown to model version ",
                                                 model.version()));
}

}  // namespace ranker
