// Checks a RankRequest against the server's limits before any work is done.
// INVALID_ARGUMENT messages name the field and the limit, so callers can fix their request.
#ifndef RANKER_SERVER_RANK_REQUEST_VALIDATOR_H_
#define RANKER_SERVER_RANK_REQUEST_VALIDATOR_H_

#include <cstdint>

#include "absl/status/status.h"
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
// Under kReject the model itself refuses unknown ids (RankQuery::refuse_unknown), so each id is
// looked up once; this is the INVALID_ARGUMENT that names what it refused. Unknown history ids
// are never refused (they are counted and ignored).
absl::Status UnknownIdError(const RankResult::UnknownId& refused, const Model& model);

}  // namespace ranker

#endif  // RANKER_SERVER_RANK_REQUEST_VALIDATOR_H_
