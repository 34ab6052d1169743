#include "server/rank_request_validator.h"

#include "absl/strings/str_cat.h"

namespace ranker {

absl::Status ValidateRankRequest(const v1::RankRequest& request, const RankLimits& limits) {
  if (request.k() == 0) return absl::InvalidArgumentError("k must be at least 1");
  if (request.k() > limits.max_k) {
    return absl::InvalidArgumentError(
        absl::StrCat("k = ", request.k(), " exceeds the server's max_k = ", limits.max_k));
  }
  if (static_cast<uint64_t>(request.candidate_ids_size()) > limits.max_candidates) {
    return absl::InvalidArgumentError(
        absl::StrCat(request.candidate_ids_size(),
                     " candidates exceed the server's max_candidates = ", limits.max_candidates));
  }
  return absl::OkStatus();
}

absl::Status CheckKnownIds(const v1::RankRequest& request, const Model& model,
                           UnknownIdPolicy policy) {
  if (policy != UnknownIdPolicy::kReject) return absl::OkStatus();
  if (!model.user().ids.ToIndex(request.user_id())) {
    return absl::InvalidArgumentError(absl::StrCat(
        "user_id ", request.user_id(), " is unknown to model version ", model.version()));
  }
  for (uint64_t id : request.candidate_ids()) {
    if (!model.item().ids.ToIndex(id)) {
      return absl::InvalidArgumentError(
          absl::StrCat("candidate item ", id, " is unknown to model version ", model.version()));
    }
  }
  return absl::OkStatus();
}

}  // namespace ranker
