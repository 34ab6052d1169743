#include "server/event_metrics.h"

#include <algorithm>

namespace ranker {

EventMetrics::EventMetrics() : registry_(std::make_shared<prometheus::Registry>()) {
  recorded_ = &prometheus::BuildCounter()
                   .Name("ranker_events_recorded_total")
                   .Help("Interactions acknowledged by Record calls on this server.")
                   .Register(*registry_)
                   .Add({});
  duplicates_ = &prometheus::BuildCounter()
                     .Name("ranker_events_duplicates_total")
                     .Help(
                         "Acknowledged interactions whose request id was recorded before "
                         "(retries; applied once).")
                     .Register(*registry_)
                     .Add({});
  auto& refused = prometheus::BuildCounter()
                      .Name("ranker_events_refused_total")
                      .Help(
                          "Interactions of Record calls not acknowledged, by reason: invalid "
                          "(INVALID_ARGUMENT), unavailable (the log could not take them).")
                      .Register(*registry_);
  refused_invalid_ = &refused.Add({{"reason", "invalid"}});
  refused_unavailable_ = &refused.Add({{"reason", "unavailable"}});
  applied_ = &prometheus::BuildCounter()
                  .Name("ranker_events_applied_total")
                  .Help("Interactions this replica applied to its histories from the stream.")
                  .Register(*registry_)
                  .Add({});
  apply_batches_ = &prometheus::BuildCounter()
                        .Name("ranker_events_apply_batches_total")
                        .Help(
                            "Writes of stream messages to this replica's histories: one per "
                            "batch (--event_apply_linger gathers a batch).")
                        .Register(*registry_)
                        .Add({});
  auto& skipped = prometheus::BuildCounter()
                      .Name("ranker_events_skipped_total")
                      .Help(
                          "Stream messages not applied, by reason (malformed, invalid, "
                          "oversized).")
                      .Register(*registry_);
  for (int r = 0; r < kSkipReasonCount; ++r) {
    skipped_[r] = &skipped.Add({{"reason", SkipReasonName(static_cast<SkipReason>(r))}});
  }
  applied_sequence_ = &prometheus::BuildGauge()
                           .Name("ranker_events_applied_sequence")
                           .Help("The stream sequence this replica applied through.")
                           .Register(*registry_)
                           .Add({});
  lag_messages_ = &prometheus::BuildGauge()
                       .Name("ranker_events_apply_lag_messages")
                       .Help("Stream messages this replica has not applied yet.")
                       .Register(*registry_)
                       .Add({});
  lag_seconds_ = &prometheus::BuildGauge()
                      .Name("ranker_events_apply_lag_seconds")
                      .Help(
                          "Age of the newest applied message when it was applied; while the "
                          "broker is unreachable, the seconds since it was last heard from.")
                      .Register(*registry_)
                      .Add({});
}

void EventMetrics::OnRecorded(uint64_t interactions, uint64_t duplicates) {
  recorded_->Increment(static_cast<double>(interactions));
  duplicates_->Increment(static_cast<double>(duplicates));
}

void EventMetrics::OnRefused(RefuseReason reason, uint64_t interactions) {
  (reason == RefuseReason::kInvalid ? refused_invalid_ : refused_unavailable_)
      ->Increment(static_cast<double>(interactions));
}

void EventMetrics::OnApplied(uint64_t interactions, uint64_t sequence, uint64_t lag_messages,
                             double lag_seconds) {
  applied_->Increment(static_cast<double>(interactions));
  apply_batches_->Increment();
  applied_sequence_->Set(static_cast<double>(sequence));
  lag_messages_->Set(static_cast<double>(lag_messages));
  lag_seconds_->Set(std::max(0.0, lag_seconds));
}

void EventMetrics::OnSkipped(SkipReason reason) { skipped_[static_cast<int>(reason)]->Increment(); }

void EventMetrics::OnStreamSilence(double seconds) { lag_seconds_->Set(seconds); }

}  // namespace ranker
