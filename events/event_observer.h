// Hooks the event path calls, so that metrics (server/event_metrics.h) stay out of it.
// Implementations must be thread-safe and cheap.
#ifndef RANKER_EVENTS_EVENT_OBSERVER_H_
#define RANKER_EVENTS_EVENT_OBSERVER_H_

#include <cstdint>

namespace ranker {

// Why an event-log message was not applied (the consumer skips it and goes on).
enum class SkipReason { kMalformed, kInvalid, kOversized };
inline constexpr int kSkipReasonCount = 3;
inline const char* SkipReasonName(SkipReason reason) {
  switch (reason) {
    case SkipReason::kMalformed:
      return "malformed";
    case SkipReason::kInvalid:
      return "invalid";
    case SkipReason::kOversized:
      return "oversized";
  }
  return "unknown";
}

// Why a Record call's interactions were not acknowledged.
enum class RefuseReason { kInvalid, kUnavailable };

class EventObserver {
 public:
  virtual ~EventObserver() = default;
  // A Record request acknowledged: its interactions, and how many were duplicates.
  virtual void OnRecorded(uint64_t interactions, uint64_t duplicates) = 0;
  virtual void OnRefused(RefuseReason reason, uint64_t interactions) = 0;
  // The consumer applied messages through stream `sequence`; `lag_messages` are in the stream
  // after it, and the newest applied message was published `lag_seconds` ago.
  virtual void OnApplied(uint64_t interactions, uint64_t sequence, uint64_t lag_messages,
                         double lag_seconds) = 0;
  virtual void OnSkipped(SkipReason reason) = 0;
  // The consumer's view of the stream while nothing new is applied (e.g. the broker is down):
  // the seconds since it last heard from the broker.
  virtual void OnStreamSilence(double seconds) = 0;
};

class NullEventObserver final : public EventObserver {
 public:
  void OnRecorded(uint64_t, uint64_t) override {}
  void OnRefused(RefuseReason, uint64_t) override {}
  void OnApplied(uint64_t, uint64_t, uint64_t, double) override {}
  void OnSkipped(SkipReason) override {}
  void OnStreamSilence(double) override {}
};

}  // namespace ranker

#endif  // RANKER_EVENTS_EVENT_OBSERVER_H_
