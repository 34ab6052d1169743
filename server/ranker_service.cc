#include "server/ranker_service.h"

#include <algorithm>
#include <chrono>

#include "absl/strings/str_cat.h"
#include "common/status_macros.h"
#include "model/table_layout.h"
#include "model/table_sizing.h"
#include "server/grpc_status.h"

namespace ranker {
namespace {

double SecondsSince(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

// Per-thread buffers; the threads that run Rank live as long as the server, so these are built
// once per thread.
struct ThreadScratch {
  RankScratch rank;
  RankResult result;
  std::vector<uint64_t> stored_history;
};

ThreadScratch& LocalScratch() {
  thread_local ThreadScratch scratch;
  return scratch;
}

}  // namespace

RankerService::RankerService(const ModelManager* manager, RankLimits limits,
                             RequestObserver* observer, const StoredHistories* histories,
                             RankWorkers* workers)
    : manager_(manager),
      limits_(limits),
      observer_(observer),
      histories_(histories),
      workers_(workers) {
  SetMessageAllocatorFor_Rank(&rank_messages_);
}

absl::Status RankerService::DoRank(std::chrono::system_clock::time_point deadline,
                                   const v1::RankRequest& request, v1::RankResponse* response) {
  RETURN_IF_ERROR(ValidateRankRequest(request, limits_));
  ASSIGN_OR_RETURN(std::shared_ptr<const Model> model, manager_->Get(request.model_version()));
  RETURN_IF_ERROR(CheckRequestFitsModel(request, *model));
  if (deadline < std::chrono::system_clock::now()) {
    return absl::DeadlineExceededError("deadline passed before scoring");
  }
  ThreadScratch& scratch = LocalScratch();
  RankQuery query;
  query.user_id = request.user_id();
  query.candidates =
      absl::MakeConstSpan(request.candidate_ids().data(), request.candidate_ids_size());
  query.history = absl::MakeConstSpan(request.history_ids().data(), request.history_ids_size());
  query.max_history = limits_.max_history;
  v1::HistorySource history_source = v1::HISTORY_SOURCE_REQUEST;
  if (model->history_mode() && query.history.empty()) {
    history_source = v1::HISTORY_SOURCE_NONE;
    if (histories_ != nullptr) {
      const HistoryLookup lookup = histories_->Read(request.user_id(), &scratch.stored_history);
      observer_->OnHistoryLookup(lookup);
      if (lookup == HistoryLookup::kFound) {
        history_source = v1::HISTORY_SOURCE_STORED;
        query.history = scratch.stored_history;
      }
    }
  }
  query.exclude = absl::MakeConstSpan(request.exclude_ids().data(), request.exclude_ids_size());
  query.include_seen = request.include_seen();
  query.k = request.k();
  // Retrieval keeps at least k, so two stages never return fewer items than one.
  const uint32_t retrieve_n = request.retrieve_n() > 0 ? request.retrieve_n() : limits_.retrieve_n;
  query.retrieve_n = retrieve_n == 0 ? 0 : std::max<size_t>(retrieve_n, query.k);
  query.refuse_unknown = limits_.unknown_ids == UnknownIdPolicy::kReject;
  model->Rank(query, &scratch.rank, &scratch.result);
  const RankResult& result = scratch.result;
  if (result.refused) {
    RankResult::UnknownId named = *result.refused;  // the model names the smallest unknown id
    for (uint64_t id : request.candidate_ids()) {   // the caller wants the first it sent
      if (!named.is_user && !model->item().ids.ToIndex(id)) {
        named.id = id;
        break;
      }
    }
    return UnknownIdError(named, *model);
  }
  response->set_model_version(model->version());
  response->set_unknown_ids(result.unknown_users + result.unknown_items);
  v1::RankStages* stages = response->mutable_stages();
  stages->set_retrieval_scored(result.retrieval_scored);
  stages->set_ranked(result.ranked);
  stages->set_retrieve_n(static_cast<uint32_t>(query.retrieve_n));
  if (model->history_mode()) {
    response->set_history_source(history_source);
    response->set_history_length(scratch.result.history_used);
    response->set_unknown_history_ids(scratch.result.unknown_history);
    response->set_popularity(scratch.result.popularity);
  }
  auto* items = response->mutable_items();
  items->Reserve(static_cast<int>(scratch.result.items.size()));
  for (const ScoredId& scored : scratch.result.items) {
    v1::ScoredItem* item = items->Add();
    item->set_item_id(scored.id);
    item->set_score(scored.score);
  }
  RankStats stats;
  stats.candidates =
      query.candidates.empty() ? model->item().table.size() : query.candidates.size();
  stats.retrieval_scored = result.retrieval_scored;
  stats.ranked = result.ranked;
  stats.popularity = result.popularity;
  stats.unknown_users = result.unknown_users;
  stats.unknown_items = result.unknown_items;
  observer_->OnRank(stats);
  return absl::OkStatus();
}

grpc::ServerUnaryReactor* RankerService::Rank(grpc::CallbackServerContext* context,
                                              const v1::RankRequest* request,
                                              v1::RankResponse* response) {
  const auto start = std::chrono::steady_clock::now();
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  if (!Admit()) {
    reactor->Finish(RefuseBusy(start));
    return reactor;
  }
  const bool inline_call =
      workers_ == nullptr ||
      (request->candidate_ids_size() > 0 && request->candidate_ids_size() <= kInlineMaxCandidates);
  if (inline_call) {
    reactor->Finish(RankAdmitted(start, context->deadline(), *request, response));
  } else {
    // A call cancelled while queued (its client gone, or the server's shutdown grace over) is
    // not scored: shutdown waits for every queued call to finish.
    workers_->Submit([this, start, context, request, response, reactor] {
      if (context->IsCancelled()) {
        ranks_in_flight_.fetch_sub(1, std::memory_order_acq_rel);
        observer_->OnRequest(RpcMethod::kRank, grpc::StatusCode::CANCELLED, SecondsSince(start));
        reactor->Finish(grpc::Status(grpc::StatusCode::CANCELLED, "cancelled before scoring"));
        return;
      }
      reactor->Finish(RankAdmitted(start, context->deadline(), *request, response));
    });
  }
  return reactor;
}

grpc::Status RankerService::RankBefore(std::chrono::system_clock::time_point deadline,
                                       const v1::RankRequest& request, v1::RankResponse* response) {
  const auto start = std::chrono::steady_clock::now();
  if (!Admit()) return RefuseBusy(start);
  return RankAdmitted(start, deadline, request, response);
}

bool RankerService::Admit() {
  if (ranks_in_flight_.fetch_add(1, std::memory_order_acq_rel) < limits_.max_concurrent) {
    return true;
  }
  ranks_in_flight_.fetch_sub(1, std::memory_order_acq_rel);
  return false;
}

grpc::Status RankerService::RefuseBusy(std::chrono::steady_clock::time_point start) {
  grpc::Status busy(grpc::StatusCode::RESOURCE_EXHAUSTED,
                    absl::StrCat("server busy: ", limits_.max_concurrent,
                                 " Rank calls already in flight; retry with backoff"));
  observer_->OnRequest(RpcMethod::kRank, busy.error_code(), SecondsSince(start));
  return busy;
}

grpc::Status RankerService::RankAdmitted(std::chrono::steady_clock::time_point start,
                                         std::chrono::system_clock::time_point deadline,
                                         const v1::RankRequest& request,
                                         v1::RankResponse* response) {
  const grpc::Status status = ToGrpcStatus(DoRank(deadline, request, response));
  ranks_in_flight_.fetch_sub(1, std::memory_order_acq_rel);
  // Before Finish: the request and response go back to the pool after it.
  observer_->OnRequest(RpcMethod::kRank, status.error_code(), SecondsSince(start));
  return status;
}

grpc::ServerUnaryReactor* RankerService::GetModelInfo(grpc::CallbackServerContext* context,
                                                      const v1::GetModelInfoRequest* request,
                                                      v1::ModelInfo* response) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  reactor->Finish(DescribeRequested(*request, response));
  return reactor;
}

grpc::Status RankerService::DescribeRequested(const v1::GetModelInfoRequest& request,
                                              v1::ModelInfo* response) {
  const auto start = std::chrono::steady_clock::now();
  absl::StatusOr<std::shared_ptr<const Model>> model = manager_->Get(request.model_version());
  grpc::Status status;
  if (model.ok()) {
    std::optional<LoadedVersion> loaded;
    for (const LoadedVersion& entry : manager_->Loaded()) {
      if (entry.version == (*model)->version()) loaded = entry;
    }
    DescribeModel(**model, loaded ? &*loaded : nullptr, response);
  } else {
    status = ToGrpcStatus(model.status());
  }
  observer_->OnRequest(RpcMethod::kGetModelInfo, status.error_code(), SecondsSince(start));
  return status;
}

void DescribeModel(const Model& model, const LoadedVersion* loaded, v1::ModelInfo* info) {
  const Manifest& manifest = model.manifest();
  info->set_version(model.version());
  info->set_created_unix_seconds(manifest.created_unix_seconds());
  info->set_user_mode(model.history_mode() ? "history" : "id");
  if (model.history_mode() && manifest.users() > 0) {
    // The user-ID model of the same data: full fp32 user and item tables, the same MLP.
    const double id_model_bytes =
        static_cast<double>(manifest.users() + model.item().table.size()) *
            model.item().table.dim() * sizeof(float) +
        static_cast<double>(model.scorer().resident_bytes());
    info->set_ratio_vs_full_id_model(id_model_bytes / static_cast<double>(model.resident_bytes()));
  }
  for (const Feature& feature : model.features()) {
    const TableSpec& spec = feature.table.spec();
    v1::TableInfo* table = info->add_tables();
    table->set_feature(spec.feature());
    table->set_kind(TableKindName(spec.kind()));
    table->set_row_dtype(RowDTypeName(spec.row_dtype()));
    table->set_n(spec.n());
    table->set_m(spec.m());
    table->set_d(spec.d());
    table->set_hash(HashName(spec));
    table->set_parameters(feature.table.parameters());
    table->set_resident_bytes(model.table_resident_bytes(feature));
    table->set_uncompressed_bytes(spec.n() * spec.d() * sizeof(float));
    table->set_has_id_map(!feature.ids.dense());
  }
  for (uint32_t width : model.scorer().widths()) info->add_mlp_widths(width);
  info->set_dot_weight(model.scorer().dot_weight());
  info->set_resident_bytes(model.resident_bytes());
  info->set_uncompressed_bytes(model.uncompressed_bytes());
  info->set_compression_ratio(model.compression_ratio());
  info->mutable_producer()->insert(manifest.producer().begin(), manifest.producer().end());
  if (loaded != nullptr) {
    info->set_loaded_unix_seconds(loaded->loaded_unix_seconds);
    info->set_load_seconds(loaded->load_seconds);
  }
}

}  // namespace ranker
