#include "server/events_service.h"

#include <chrono>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "common/grpc_status.h"

namespace ranker {
namespace {

double SecondsSince(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

}  // namespace

EventsService::EventsService(EventLog* log, RecordLimits limits, RequestObserver* requests,
                             EventObserver* events)
    : log_(log), limits_(limits), requests_(requests), events_(events) {}

absl::Status EventsService::RecordOne(const v1::RecordRequest& request,
                                      v1::RecordResponse* response) {
  const int64_t now_ms = absl::ToUnixMillis(absl::Now());
  if (absl::Status valid = ValidateRecordRequest(request, limits_, now_ms); !valid.ok()) {
    events_->OnRefused(RefuseReason::kInvalid, request.interactions_size());
    return valid;
  }
  absl::StatusOr<RecordOutcome> outcome =
      log_->Record(request.request_id(), GroupByUser(request, now_ms));
  if (!outcome.ok()) {
    events_->OnRefused(RefuseReason::kUnavailable, request.interactions_size());
    return outcome.status();
  }
  events_->OnRecorded(outcome->recorded, outcome->duplicates);
  response->set_recorded(response->recorded() + outcome->recorded);
  response->set_duplicates(response->duplicates() + outcome->duplicates);
  response->set_users(response->users() + outcome->users);
  return absl::OkStatus();
}

grpc::Status EventsService::Record(grpc::ServerContext*, const v1::RecordRequest* request,
                                   v1::RecordResponse* response) {
  const auto start = std::chrono::steady_clock::now();
  const grpc::Status status = ToGrpcStatus(RecordOne(*request, response));
  requests_->OnRequest(RpcMethod::kRecord, status.error_code(), SecondsSince(start));
  return status;
}

grpc::Status EventsService::RecordStream(grpc::ServerContext* context,
                                         grpc::ServerReader<v1::RecordRequest>* reader,
                                         v1::RecordResponse* response) {
  const auto start = std::chrono::steady_clock::now();
  v1::RecordRequest request;
  grpc::Status status;
  for (int index = 0; reader->Read(&request); ++index) {
    if (context->IsCancelled()) {
      status = grpc::Status(grpc::StatusCode::CANCELLED, "cancelled by the client");
      break;
    }
    absl::Status recorded = RecordOne(request, response);
    if (!recorded.ok()) {
      // The requests before this one are durable (and counted in the trailers' message); the
      // client resends from this index, with the same request ids if it cannot tell.
      status = ToGrpcStatus(absl::Status(
          recorded.code(),
          absl::StrCat("request ", index, " (", response->recorded(),
                       " interactions before it were recorded): ", recorded.message())));
      break;
    }
  }
  requests_->OnRequest(RpcMethod::kRecordStream, status.error_code(), SecondsSince(start));
  return status;
}

}  // namespace ranker
