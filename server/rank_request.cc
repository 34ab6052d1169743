#include "server/rank_request.h"

#include <algorithm>

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

RankQuery MakeRankQuery(const v1::RankRequest& request, const RankLimits& limits,
                        absl::Span<const uint64_t> stored_history) {
  RankQuery query;
  query.user_id = request.user_id();
  query.candidates =
      absl::MakeConstSpan(request.candidate_ids().data(), request.candidate_ids_size());
  query.history = request.history_ids_size() > 0 ? absl::MakeConstSpan(request.history_ids().data(),
                                                                       request.history_ids_size())
                                                 : stored_history;
  query.max_history = limits.max_history;
  query.exclude = absl::MakeConstSpan(request.exclude_ids().data(), request.exclude_ids_size());
  query.include_seen = request.include_seen();
  query.k = request.k();
  // Retrieval keeps at least k, so two stages never return fewer items than one.
  const uint32_t retrieve_n = request.retrieve_n() > 0 ? request.retrieve_n() : limits.retrieve_n;
  query.retrieve_n = retrieve_n == 0 ? 0 : std::max<size_t>(retrieve_n, query.k);
  query.refuse_unknown = limits.unknown_ids == UnknownIdPolicy::kReject;
  return query;
}

v1::HistorySource HistorySourceOf(const v1::RankRequest& request, bool found_stored) {
  if (request.history_ids_size() > 0) return v1::HISTORY_SOURCE_REQUEST;
  return found_stored ? v1::HISTORY_SOURCE_STORED : v1::HISTORY_SOURCE_NONE;
}

void FillRankResponse(const Model& model, const RankQuery& query, const RankResult& result,
                      v1::HistorySource history_source, v1::RankResponse* response) {
  response->set_model_version(model.version());
  response->set_unknown_ids(result.unknown_users + result.unknown_items);
  v1::RankStages* stages = response->mutable_stages();
  stages->set_retrieval_scored(result.retrieval_scored);
  stages->set_ranked(result.ranked);
  stages->set_retrieve_n(static_cast<uint32_t>(query.retrieve_n));
  if (model.history_mode()) {
    response->set_history_source(history_source);
    response->set_history_length(result.history_used);
    response->set_unknown_history_ids(result.unknown_history);
    response->set_popularity(result.popularity);
  }
  auto* items = response->mutable_items();
  items->Reserve(static_cast<int>(result.items.size()));
  for (const ScoredId& scored : result.items) {
    v1::ScoredItem* item = items->Add();
    item->set_item_id(scored.id);
    item->set_score(scored.score);
  }
}

absl::Status RefusedIdError(const RankResult::UnknownId& refused, const Model& model) {
  return absl::InvalidArgumentError(absl::StrCat(refused.is_user ? "user_id " : "candidate item ",
                                                 refused.id, " is unknown to model version ",
                                                 model.version()));
}

}  // namespace ranker
