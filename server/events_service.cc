#include "server/events_service.h"

#include <chrono>
#include <memory>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "common/grpc_status.h"
#include "server/wire_messages.h"

namespace ranker {
namespace {

double SecondsSince(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

grpc::Status Busy() {
  return grpc::Status(grpc::StatusCode::RESOURCE_EXHAUSTED,
                      "server busy: too many Record calls in flight; retry with backoff");
}

}  // namespace

// One RecordStream call: reads a request, records it on a worker, reads the next; answers at
// the end of the stream or at the first request that fails. Deletes itself when done.
class EventsService::StreamReactor final : public grpc::ServerReadReactor<grpc::ByteBuffer> {
 public:
  StreamReactor(EventsService* service, grpc::ByteBuffer* response)
      : service_(service), response_bytes_(response) {
    StartRead(&request_bytes_);
  }

  void OnReadDone(bool ok) override {
    if (!ok) {  // the client finished sending (or went away: Finish is then moot)
      Finish(SerializeResponse(response_, response_bytes_));
      return;
    }
    v1::RecordRequest request;
    if (grpc::Status parsed = ParseRequest(request_bytes_, &request); !parsed.ok()) {
      Finish(grpc::Status(parsed.error_code(),
                          absl::StrCat("request ", index_, ": ", parsed.error_message())));
      return;
    }
    service_->workers_->Submit([this, request = std::move(request)] {
      absl::Status recorded = service_->RecordOne(request, &response_);
      if (!recorded.ok()) {
        // The requests before this one are durable; the client resends from this index (with
        // the same request ids, if it cannot tell what happened).
        Finish(ToGrpcStatus(absl::Status(
            recorded.code(),
            absl::StrCat("request ", index_, " (", response_.recorded(),
                         " interactions before it were recorded): ", recorded.message()))));
        return;
      }
      ++index_;
      StartRead(&request_bytes_);
    });
  }

  void OnDone() override {
    service_->requests_->OnRequest(RpcMethod::kRecordStream, code_, SecondsSince(start_));
    service_->Release();
    delete this;
  }

 private:
  void Finish(const grpc::Status& status) {
    code_ = status.error_code();
    grpc::ServerReadReactor<grpc::ByteBuffer>::Finish(status);
  }

  EventsService* const service_;
  grpc::ByteBuffer* const response_bytes_;
  grpc::ByteBuffer request_bytes_;
  v1::RecordResponse response_;
  uint64_t index_ = 0;
  grpc::StatusCode code_ = grpc::StatusCode::OK;
  const std::chrono::steady_clock::time_point start_ = std::chrono::steady_clock::now();
};

EventsService::EventsService(EventLog* log, RecordLimits limits, RequestObserver* requests,
                             EventObserver* events, RankWorkers* workers, uint32_t max_in_flight)
    : log_(log),
      limits_(limits),
      requests_(requests),
      events_(events),
      workers_(workers),
      max_in_flight_(max_in_flight) {}

bool EventsService::Admit() {
  if (in_flight_.fetch_add(1, std::memory_order_acq_rel) < max_in_flight_) return true;
  Release();
  return false;
}

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

grpc::ServerUnaryReactor* EventsService::Record(grpc::CallbackServerContext* context,
                                                const grpc::ByteBuffer* request_bytes,
                                                grpc::ByteBuffer* response_bytes) {
  const auto start = std::chrono::steady_clock::now();
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  const auto finish = [this, start, reactor](const grpc::Status& status) {
    requests_->OnRequest(RpcMethod::kRecord, status.error_code(), SecondsSince(start));
    reactor->Finish(status);
  };
  if (!Admit()) {
    finish(Busy());
    return reactor;
  }
  auto request = std::make_shared<v1::RecordRequest>();
  if (grpc::Status parsed = ParseRequest(*request_bytes, request.get()); !parsed.ok()) {
    Release();
    finish(parsed);
    return reactor;
  }
  workers_->Submit([this, request, response_bytes, finish] {
    v1::RecordResponse response;
    grpc::Status status = ToGrpcStatus(RecordOne(*request, &response));
    if (status.ok()) status = SerializeResponse(response, response_bytes);
    Release();
    finish(status);
  });
  return reactor;
}

grpc::ServerReadReactor<grpc::ByteBuffer>* EventsService::RecordStream(
    grpc::CallbackServerContext* context, grpc::ByteBuffer* response) {
  if (!Admit()) {
    // A reactor that refuses at once still has to be a reactor.
    class Refused final : public grpc::ServerReadReactor<grpc::ByteBuffer> {
     public:
      explicit Refused(RequestObserver* requests) : requests_(requests) { Finish(Busy()); }
      void OnDone() override {
        requests_->OnRequest(RpcMethod::kRecordStream, grpc::StatusCode::RESOURCE_EXHAUSTED, 0);
        delete this;
      }

     private:
      RequestObserver* requests_;
    };
    (void)context;
    return new Refused(requests_);
  }
  return new StreamReactor(this, response);
}

}  // namespace ranker
