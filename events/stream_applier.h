// A replica's consumer of the event stream: reads every message in stream order from the
// sequence after the one its history database last applied, and applies them in batches, each
// one RocksDB WriteBatch holding the histories it changed and the stream sequence it reached
// (HistoryStore::ApplyEvents). So every event is applied exactly once, in stream order (hence
// in order per user), and a replica killed at any point resumes where its database says.
//
// Messages it cannot apply (fuzz-tested decoding, stream_message.h) are skipped and counted;
// the sequence still moves past them, so one bad message never stalls the consumer. When the
// broker goes away the thread keeps trying to resubscribe; Rank never waits for it.
#ifndef RANKER_EVENTS_STREAM_APPLIER_H_
#define RANKER_EVENTS_STREAM_APPLIER_H_

#include <atomic>
#include <cstdint>
#include <functional>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "common/mutex.h"
#include "events/event_observer.h"
#include "events/jetstream.h"
#include "model_store/history_store.h"

namespace ranker {

struct StreamApplierOptions {
  size_t history_cap = 200;
  uint32_t max_items_per_message = 10000;
  uint32_t max_batch_messages = 4096;  // per WriteBatch
  // At the stream's live end (nothing pending after the first message of a batch), how long
  // to gather more before applying, unless a Record on this replica waits for it
  // (read-your-writes): one write per window instead of one per message keeps a replica's
  // apply off the cores its Rank calls use.
  absl::Duration linger = absl::Milliseconds(20);
  absl::Duration max_future = absl::Minutes(5);
};

class StreamApplier {
 public:
  // All must outlive the applier; `seed_from` as for LocalEventLog.
  StreamApplier(JetStreamConnection* connection, HistoryStore* store,
                std::function<const HistoryStore*()> seed_from, EventObserver* observer,
                StreamApplierOptions options);
  ~StreamApplier();  // Stop()

  // Reads the applied sequence and starts the consuming thread. Errors: the database's sequence
  // cannot be read.
  absl::Status Start();
  void Stop();

  uint64_t applied_sequence() const { return applied_.load(std::memory_order_acquire); }
  // Waits until the stream is applied through `sequence`; false if `timeout` passed first.
  // While anyone waits, batches are applied without lingering.
  bool WaitApplied(uint64_t sequence, absl::Duration timeout);

 private:
  void Run();
  // Returns after options_.linger, or sooner when someone waits in WaitApplied or on Stop.
  void Linger();
  // Applies `messages` (stream order) as one batch.
  absl::Status Apply(const std::vector<StreamMessage>& messages);

  JetStreamConnection* const connection_;
  HistoryStore* const store_;
  const std::function<const HistoryStore*()> seed_from_;
  EventObserver* const observer_;
  const StreamApplierOptions options_;
  std::atomic<uint64_t> applied_{0};
  std::atomic<bool> stopping_{false};
  Mutex mu_;
  CondVar applied_cv_{&mu_};
  CondVar waiter_cv_{&mu_};  // signalled when a WaitApplied starts, and on Stop
  int waiters_ ABSL_GUARDED_BY(mu_) = 0;
  std::thread thread_;
};

}  // namespace ranker

#endif  // RANKER_EVENTS_STREAM_APPLIER_H_
