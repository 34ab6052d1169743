#include "events/stream_applier.h"

#include <chrono>

#include "absl/time/clock.h"
#include "common/log.h"
#include "events/stream_message.h"

namespace ranker {
namespace {

// Bad messages are a producer's problem and may come in floods: log the first few, count all.
constexpr int kLoggedSkips = 10;

}  // namespace

StreamApplier::StreamApplier(JetStreamConnection* connection, HistoryStore* store,
                             std::function<const HistoryStore*()> seed_from,
                             EventObserver* observer, StreamApplierOptions options)
    : connection_(connection),
      store_(store),
      seed_from_(std::move(seed_from)),
      observer_(observer),
      options_(options) {}

StreamApplier::~StreamApplier() { Stop(); }

absl::Status StreamApplier::Start() {
  absl::StatusOr<uint64_t> applied = store_->AppliedSequence();
  if (!applied.ok()) return applied.status();
  applied_.store(*applied, std::memory_order_release);
  thread_ = std::thread([this] { Run(); });
  return absl::OkStatus();
}

void StreamApplier::Stop() {
  {
    MutexLock lock(&mu_);
    stopping_.store(true, std::memory_order_release);
  }
  waiter_cv_.SignalAll();
  if (thread_.joinable()) thread_.join();
}

bool StreamApplier::WaitApplied(uint64_t sequence, absl::Duration timeout) {
  const auto deadline = std::chrono::steady_clock::now() + absl::ToChronoMilliseconds(timeout);
  MutexLock lock(&mu_);
  if (applied_sequence() >= sequence) return true;
  ++waiters_;
  waiter_cv_.SignalAll();
  bool applied = true;
  while (applied_sequence() < sequence) {
    const auto now = std::chrono::steady_clock::now();
    if (now >= deadline) {
      applied = false;
      break;
    }
    applied_cv_.WaitFor(deadline - now);
  }
  --waiters_;
  return applied;
}

void StreamApplier::Linger() {
  const auto deadline =
      std::chrono::steady_clock::now() + absl::ToChronoNanoseconds(options_.linger);
  MutexLock lock(&mu_);
  for (auto now = std::chrono::steady_clock::now();
       waiters_ == 0 && !stopping_.load(std::memory_order_acquire) && now < deadline;
       now = std::chrono::steady_clock::now()) {
    waiter_cv_.WaitFor(deadline - now);
  }
}

void StreamApplier::Run() {
  std::unique_ptr<JetStreamSubscription> subscription;
  absl::Time last_heard = absl::Now();
  std::vector<StreamMessage> batch;
  while (!stopping_.load(std::memory_order_acquire)) {
    if (subscription == nullptr) {
      absl::Status ready = connection_->EnsureStream();
      absl::StatusOr<std::unique_ptr<JetStreamSubscription>> subscribed =
          ready.ok() ? connection_->Subscribe(applied_sequence() + 1)
                     : absl::StatusOr<std::unique_ptr<JetStreamSubscription>>(ready);
      if (!subscribed.ok()) {
        observer_->OnStreamSilence(absl::ToDoubleSeconds(absl::Now() - last_heard));
        std::this_thread::sleep_for(std::chrono::milliseconds(250));
        continue;
      }
      subscription = *std::move(subscribed);
      LogInfo("event stream: consuming from sequence ", applied_sequence() + 1);
    }
    absl::StatusOr<StreamMessage> first = subscription->Next(absl::Milliseconds(250));
    if (!first.ok()) {
      if (absl::IsDeadlineExceeded(first.status())) {
        if (connection_->connected()) {
          last_heard = absl::Now();
        } else {
          observer_->OnStreamSilence(absl::ToDoubleSeconds(absl::Now() - last_heard));
        }
        continue;
      }
      LogWarning("event stream: ", first.status().ToString(), "; subscribing again");
      subscription.reset();
      continue;
    }
    last_heard = absl::Now();
    batch.clear();
    batch.push_back(*std::move(first));
    // Only at the stream's live end: behind it (a restart, a replay) there is a batch waiting.
    if (options_.linger > absl::ZeroDuration() && batch.front().pending == 0) Linger();
    // Take what has arrived by now, without waiting for more.
    for (int buffered = subscription->Buffered();
         buffered > 0 && batch.size() < options_.max_batch_messages; --buffered) {
      absl::StatusOr<StreamMessage> next = subscription->Next(absl::Milliseconds(1));
      if (!next.ok()) break;
      batch.push_back(*std::move(next));
    }
    if (absl::Status applied = Apply(batch); !applied.ok()) {
      // Nothing of the batch was applied (one WriteBatch): read it again from the broker.
      LogError("event stream: applying messages failed, retrying: ", applied.ToString());
      subscription.reset();
      std::this_thread::sleep_for(std::chrono::milliseconds(250));
    }
  }
}

absl::Status StreamApplier::Apply(const std::vector<StreamMessage>& messages) {
  static std::atomic<int> logged_skips{0};
  EventBatch batch;
  StreamLimits limits;
  limits.max_items = options_.max_items_per_message;
  limits.max_unix_ms = absl::ToUnixMillis(absl::Now() + options_.max_future);
  uint64_t interactions = 0;
  const uint64_t already = applied_sequence();
  const StreamMessage* last = nullptr;
  for (const StreamMessage& message : messages) {
    // A consumer recreated after a reconnect may deliver again what was applied.
    if (message.sequence <= already) continue;
    last = &message;
    SkipReason reason;
    absl::StatusOr<v1::UserInteractions> decoded = DecodeStreamMessage(
        connection_->options().subject_prefix, message.subject, message.data, limits, &reason);
    if (!decoded.ok()) {
      observer_->OnSkipped(reason);
      if (logged_skips.fetch_add(1, std::memory_order_relaxed) < kLoggedSkips) {
        LogWarning("event stream: skipped message ", message.sequence, " (", SkipReasonName(reason),
                   "): ", decoded.status().message());
      }
      continue;
    }
    interactions += decoded->item_ids_size();
    batch.users.push_back(
        UserHistory{decoded->user_id(), {decoded->item_ids().begin(), decoded->item_ids().end()}});
  }
  if (last == nullptr) return absl::OkStatus();
  batch.log_sequence = last->sequence;
  // The broker holds the events durably; a batch lost to a machine crash is lost together with
  // its sequence and read again (history_store.h). An fsync per batch cost Rank 20% of its
  // throughput on a replica applying 1,000 events/s (benchmarks/events.sh).
  batch.sync = false;
  absl::StatusOr<AppendStats> stats =
      store_->ApplyEvents(batch, options_.history_cap, seed_from_());
  if (!stats.ok()) return stats.status();
  {
    MutexLock lock(&mu_);
    applied_.store(last->sequence, std::memory_order_release);
    applied_cv_.SignalAll();
  }
  const double lag_seconds =
      absl::ToDoubleSeconds(absl::Now() - absl::FromUnixNanos(last->published_unix_ns));
  observer_->OnApplied(interactions, last->sequence, last->pending, lag_seconds);
  return absl::OkStatus();
}

}  // namespace ranker
