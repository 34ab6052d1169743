#include "server/ranker_service.h"

#include <chrono>

#include "absl/strings/str_cat.h"
#include "common/grpc_status.h"
#include "common/status_macros.h"
#include "server/model_description.h"
#include "server/wire_messages.h"

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

v1::Exposure ExposureOf(const v1::RankRequest& request, const v1::RankResponse& response) {
  v1::Exposure exposure;
  exposure.set_time_ms(std::chrono::duration_cast<std::chrono::milliseconds>(
                           std::chrono::system_clock::now().time_since_epoch())
                           .count());
  exposure.set_model(response.model());
  exposure.set_model_version(response.model_version());
  exposure.set_version_label(response.version_label());
  exposure.set_split(response.split());
  exposure.set_user_id(request.user_id());
  exposure.mutable_item_ids()->Reserve(response.items_size());
  exposure.mutable_scores()->Reserve(response.items_size());
  for (const v1::ScoredItem& item : response.items()) {
    exposure.add_item_ids(item.item_id());
    exposure.add_scores(item.score());
  }
  return exposure;
}

}  // namespace

RankerService::RankerService(ModelManager* manager, RankLimits limits, RequestObserver* observer,
                             const StoredHistories* histories, RankWorkers* workers)
    : RankerService(static_cast<const ModelRegistry*>(nullptr), limits, observer, histories,
                    workers) {
  owned_registry_ = ModelRegistry::ForManager(manager);
  registry_ = owned_registry_.get();
}

RankerService::RankerService(const ModelRegistry* registry, RankLimits limits,
                             RequestObserver* observer, const StoredHistories* histories,
                             RankWorkers* workers)
    : registry_(registry),
      limits_(limits),
      observer_(observer),
      histories_(histories),
      workers_(workers) {
  // Method 0 of ranker.v1.Ranker is Rank (the generated WithCallbackMethod_Rank says so too).
  auto* handler = new grpc::internal::CallbackUnaryHandler<grpc::ByteBuffer, v1::RankResponse>(
      [this](grpc::CallbackServerContext* context, const grpc::ByteBuffer* request,
             v1::RankResponse* response) { return HandleRank(context, request, response); });
  handler->SetMessageAllocator(&rank_messages_);
  MarkMethodCallback(0, handler);
}

absl::Status RankerService::DoRank(std::chrono::system_clock::time_point deadline,
                                   const v1::RankRequest& request, v1::RankResponse* response,
                                   std::shared_ptr<RouteObserver>* route_observer) {
  // Limits first: a caller learns its request is malformed even while no model is loaded.
  RETURN_IF_ERROR(ValidateRankRequest(request, limits_));
  ASSIGN_OR_RETURN(ModelRoute route,
                   registry_->Resolve(request.model(), request.model_version(),
                                      request.version_label(), request.user_id()));
  const std::shared_ptr<const Model>& model = route.model;
  *route_observer = route.observer;  // from here on the call counts for its model and label
  RETURN_IF_ERROR(CheckRequestFitsModel(request, *model));
  if (deadline < std::chrono::system_clock::now()) {
    return absl::DeadlineExceededError("deadline passed before scoring");
  }
  ThreadScratch& scratch = LocalScratch();
  bool found_stored = false;
  if (model->history_mode() && request.history_ids_size() == 0 && histories_ != nullptr) {
    const HistoryLookup lookup = histories_->Read(request.user_id(), &scratch.stored_history);
    observer_->OnHistoryLookup(lookup);
    found_stored = lookup == HistoryLookup::kFound;
  }
  const RankQuery query = MakeRankQuery(
      request, limits_,
      found_stored ? absl::MakeConstSpan(scratch.stored_history) : absl::Span<const uint64_t>());
  model->Rank(query, &scratch.rank, &scratch.result);
  const RankResult& result = scratch.result;
  if (result.refused) return RefusedIdError(*result.refused, *model);
  FillRankResponse(*model, query, result, HistorySourceOf(request, found_stored), response);
  response->set_model(route.served->config.name());
  response->set_version_label(route.label);
  response->set_split(route.from_split);
  if (exposures_ != nullptr && exposures_->ShouldSample()) {
    exposures_->Log(ExposureOf(request, *response));
  }
  observer_->OnRank(query.candidates.empty() ? model->item().table.size() : query.candidates.size(),
                    result);
  return absl::OkStatus();
}

grpc::ServerUnaryReactor* RankerService::HandleRank(grpc::CallbackServerContext* context,
                                                    const grpc::ByteBuffer* request_bytes,
                                                    v1::RankResponse* response) {
  const auto start = std::chrono::steady_clock::now();
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  if (!Admit()) {
    reactor->Finish(RefuseBusy(start));
    return reactor;
  }
  // On the pooled arena of the response, released with it after the call.
  auto* request = google::protobuf::Arena::CreateMessage<v1::RankRequest>(response->GetArena());
  if (grpc::Status parsed = ParseRequest(*request_bytes, request); !parsed.ok()) {
    ranks_in_flight_.fetch_sub(1, std::memory_order_acq_rel);
    observer_->OnRequest(RpcMethod::kRank, parsed.error_code(), SecondsSince(start));
    reactor->Finish(parsed);
    return reactor;
  }
  const int candidates = request->candidate_ids_size();
  const bool inline_call =
      workers_ == nullptr || (candidates > 0 && candidates <= kInlineMaxCandidates);
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
  std::shared_ptr<RouteObserver> route_observer;
  const grpc::Status status = ToGrpcStatus(DoRank(deadline, request, response, &route_observer));
  ranks_in_flight_.fetch_sub(1, std::memory_order_acq_rel);
  const double seconds = SecondsSince(start);
  observer_->OnRequest(RpcMethod::kRank, status.error_code(), seconds);
  if (route_observer != nullptr) route_observer->OnRank(status.error_code(), seconds);
  return status;
}

grpc::ServerUnaryReactor* RankerService::GetModelInfo(grpc::CallbackServerContext* context,
                                                      const grpc::ByteBuffer* request_bytes,
                                                      grpc::ByteBuffer* response_bytes) {
  const auto start = std::chrono::steady_clock::now();
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  v1::GetModelInfoRequest request;
  grpc::Status status = ParseRequest(*request_bytes, &request);
  if (!status.ok()) {
    observer_->OnRequest(RpcMethod::kGetModelInfo, status.error_code(), SecondsSince(start));
    reactor->Finish(status);
    return reactor;
  }
  v1::ModelInfo response;
  status = DescribeRequested(request, &response);
  if (status.ok()) status = SerializeResponse(response, response_bytes);
  reactor->Finish(status);
  return reactor;
}

grpc::Status RankerService::DescribeRequested(const v1::GetModelInfoRequest& request,
                                              v1::ModelInfo* response) {
  const auto start = std::chrono::steady_clock::now();
  absl::StatusOr<ModelRoute> route =
      registry_->ResolveUnsplit(request.model(), request.model_version(), request.version_label());
  grpc::Status status;
  if (route.ok()) {
    std::optional<LoadedVersion> loaded;
    for (const LoadedVersion& entry : route->served->manager->Loaded()) {
      if (entry.version == route->model->version()) loaded = entry;
    }
    DescribeModel(*route->model, loaded ? &*loaded : nullptr, response);
    response->set_model(route->served->config.name());
    for (const auto& [label, version] : route->served->labels) {
      (*response->mutable_labels())[label] = version;
    }
  } else {
    status = ToGrpcStatus(route.status());
  }
  observer_->OnRequest(RpcMethod::kGetModelInfo, status.error_code(), SecondsSince(start));
  return status;
}

}  // namespace ranker
