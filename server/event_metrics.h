// The event path's metrics (names as in docs/design.md, base units), created once at start-up.
// Thread-safe; the hot calls are atomic updates of pre-built children.
//
//   ranker_events_recorded_total                  counter: interactions acknowledged by Record
//   ranker_events_duplicates_total                counter: of those, in requests recorded before
//   ranker_events_refused_total{reason}           counter: interactions refused (invalid,
//                                                 unavailable)
//   ranker_events_applied_total                   counter: interactions this replica applied
//                                                 from the stream
//   ranker_events_apply_batches_total             counter: history writes that applied them
//   ranker_events_skipped_total{reason}           counter: stream messages not applied
//                                                 (malformed, invalid, oversized)
//   ranker_events_applied_sequence                gauge: the stream sequence applied through
//   ranker_events_apply_lag_messages              gauge: stream messages not applied yet
//   ranker_events_apply_lag_seconds               gauge: age of the newest applied message when
//                                                 applied; while the broker is silent, the
//                                                 seconds since it was last heard from
#ifndef RANKER_SERVER_EVENT_METRICS_H_
#define RANKER_SERVER_EVENT_METRICS_H_

#include <prometheus/counter.h>
#include <prometheus/gauge.h>
#include <prometheus/registry.h>

#include <array>
#include <memory>

#include "events/event_observer.h"

namespace ranker {

class EventMetrics final : public EventObserver {
 public:
  EventMetrics();
  std::shared_ptr<prometheus::Collectable> collectable() const { return registry_; }

  void OnRecorded(uint64_t interactions, uint64_t duplicates) override;
  void OnRefused(RefuseReason reason, uint64_t interactions) override;
  void OnApplied(uint64_t interactions, uint64_t sequence, uint64_t lag_messages,
                 double lag_seconds) override;
  void OnSkipped(SkipReason reason) override;
  void OnStreamSilence(double seconds) override;

 private:
  std::shared_ptr<prometheus::Registry> registry_;
  prometheus::Counter* recorded_;
  prometheus::Counter* duplicates_;
  prometheus::Counter* refused_invalid_;
  prometheus::Counter* refused_unavailable_;
  prometheus::Counter* applied_;
  prometheus::Counter* apply_batches_;
  std::array<prometheus::Counter*, kSkipReasonCount> skipped_{};
  prometheus::Gauge* applied_sequence_;
  prometheus::Gauge* lag_messages_;
  prometheus::Gauge* lag_seconds_;
};

}  // namespace ranker

#endif  // RANKER_SERVER_EVENT_METRICS_H_
