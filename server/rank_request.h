// Everything a Rank call does between the wire and the model, without transport: check the
// request against the server's limits and the model, turn it into the model's query, fill the
// response from the model's result, and name what the model refused. The service
// (ranker_service.h) does admission, threads and the history lookup; this file the request.
// INVALID_ARGUMENT messages name the field and the limit, so callers can fix their request.
#ifndef RANKER_SERVER_RANK_REQUEST_H_
#define RANKER_SERVER_RANK_REQUEST_H_

#include <cstdint>

#include "absl/status/status.h"
#include "absl/types/span.h"
#include "model/model.h"
#include "proto/ranker.pb.h"

namespace ranker {

enum class UnknownIdPolicy {
  kFallback,  // score unknown ids with the table's fallback embedding and count them
  kReject,    // INVALID_ARGUMENT naming the first unknown id
};

struct RankLimits {
  uint32_t max_k = 1000;
  uint32_t max_candidates = 10000;  // also bounds exclude_ids
  uint32_t max_history_ids = 1000;
  // History models pool the newest this many history items (0 = all); all are excluded.
  uint32_t max_history = 200;
  // Two stages (RankRequest.retrieve_n): the N of requests that leave it 0 (0 = one stage),
  // and the largest N a request may ask for.
  uint32_t retrieve_n = 500;
  uint32_t max_retrieve_n = 100000;
  UnknownIdPolicy unknown_ids = UnknownIdPolicy::kFallback;
  // Rank calls admitted at once (scoring, or queued for the Rank workers); more get
  // RESOURCE_EXHAUSTED at once rather than a queue that grows without bound while every call
  // misses its deadline. Heavy calls queued on the workers count too, so a backlog of them can
  // refuse cheap calls.
  uint32_t max_concurrent = 32;
};

// Limits that do not depend on the model: k, retrieve_n and the candidate, exclude and history
// counts.
absl::Status ValidateRankRequest(const v1::RankRequest& request, const RankLimits& limits);

// What depends on the model without looking ids up: history ids need a history model.
absl::Status CheckRequestFitsModel(const v1::RankRequest& request, const Model& model);

// The model's query for `request`. `stored_history` is used when the request has no history
// ids (empty: none). The query borrows from `request` and `stored_history`.
RankQuery MakeRankQuery(const v1::RankRequest& request, const RankLimits& limits,
                        absl::Span<const uint64_t> stored_history);

// Where a history model's history came from (the response's history_source).
v1::HistorySource HistorySourceOf(const v1::RankRequest& request, bool found_stored);

// The response for what `model` returned for `query`; REQUIRES: !result.refused.
void FillRankResponse(const Model& model, const RankQuery& query, const RankResult& result,
                      v1::HistorySource history_source, v1::RankResponse* response);

// Under kReject the model refuses unknown ids itself (RankQuery::refuse_unknown) and names the
// first in request order, so each id is looked up once; this is the INVALID_ARGUMENT for it.
// Unknown history ids are never refused (they are counted and ignored).
absl::Status RefusedIdError(const RankResult::UnknownId& refused, const Model& model);

}  // namespace ranker

#endif  // RANKER_SERVER_RANK_REQUEST_H_
