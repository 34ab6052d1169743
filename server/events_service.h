// ranker.v1.Events: Record and RecordStream validate the interactions (events/
// record_validation.h) and hand them to the EventLog, answering once it holds them durably.
// Requests arrive as bytes and are parsed here, so bytes that are not a request get
// INVALID_ARGUMENT (gRPC's own parsing would answer INTERNAL, or end a stream as if it were
// complete). Recording waits for an fsync or a broker acknowledgement, so it runs on a pool of
// its own (`workers`), never on the callback threads that serve Rank; calls waiting there
// together share one commit. At most `max_in_flight` calls are admitted at once; more get
// RESOURCE_EXHAUSTED.
#ifndef RANKER_SERVER_EVENTS_SERVICE_H_
#define RANKER_SERVER_EVENTS_SERVICE_H_

#include <atomic>

#include "events/event_log.h"
#include "events/event_observer.h"
#include "events/record_validation.h"
#include "proto/ranker.grpc.pb.h"
#include "server/rank_workers.h"
#include "server/request_observer.h"

namespace ranker {

using EventsRawService = v1::Events::WithRawCallbackMethod_Record<
    v1::Events::WithRawCallbackMethod_RecordStream<v1::Events::Service>>;

class EventsService final : public EventsRawService {
 public:
  // All must outlive the service.
  EventsService(EventLog* log, RecordLimits limits, RequestObserver* requests,
                EventObserver* events, RankWorkers* workers, uint32_t max_in_flight = 1024);

  using EventsRawService::Record;
  using EventsRawService::RecordStream;
  grpc::ServerUnaryReactor* Record(grpc::CallbackServerContext* context,
                                   const grpc::ByteBuffer* request,
                                   grpc::ByteBuffer* response) override;
  grpc::ServerReadReactor<grpc::ByteBuffer>* RecordStream(grpc::CallbackServerContext* context,
                                                          grpc::ByteBuffer* response) override;

  // Validates and records one request, adding its outcome to *response. Blocks until durable.
  absl::Status RecordOne(const v1::RecordRequest& request, v1::RecordResponse* response);

 private:
  class StreamReactor;
  bool Admit();
  void Release() { in_flight_.fetch_sub(1, std::memory_order_acq_rel); }

  EventLog* const log_;
  const RecordLimits limits_;
  RequestObserver* const requests_;
  EventObserver* const events_;
  RankWorkers* const workers_;
  const uint32_t max_in_flight_;
  std::atomic<uint32_t> in_flight_{0};
};

}  // namespace ranker

#endif  // RANKER_SERVER_EVENTS_SERVICE_H_
