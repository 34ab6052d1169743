// ranker.v1.Events: Record and RecordStream validate the interactions (events/
// record_validation.h) and hand them to the EventLog, answering once it holds them durably.
// Synchronous handlers: a Record call waits for an fsync or a broker acknowledgement, which
// must not hold up the callback threads that serve Rank.
#ifndef RANKER_SERVER_EVENTS_SERVICE_H_
#define RANKER_SERVER_EVENTS_SERVICE_H_

#include "events/event_log.h"
#include "events/event_observer.h"
#include "events/record_validation.h"
#include "proto/ranker.grpc.pb.h"
#include "server/request_observer.h"

namespace ranker {

class EventsService final : public v1::Events::Service {
 public:
  // All must outlive the service.
  EventsService(EventLog* log, RecordLimits limits, RequestObserver* requests,
                EventObserver* events);

  grpc::Status Record(grpc::ServerContext* context, const v1::RecordRequest* request,
                      v1::RecordResponse* response) override;
  grpc::Status RecordStream(grpc::ServerContext* context,
                            grpc::ServerReader<v1::RecordRequest>* reader,
                            v1::RecordResponse* response) override;

 private:
  // Validates and records one request, adding its outcome to *response.
  absl::Status RecordOne(const v1::RecordRequest& request, v1::RecordResponse* response);

  EventLog* const log_;
  const RecordLimits limits_;
  RequestObserver* const requests_;
  EventObserver* const events_;
};

}  // namespace ranker

#endif  // RANKER_SERVER_EVENTS_SERVICE_H_
