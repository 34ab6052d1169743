// A fixed set of threads for Rank calls too heavy to run on gRPC's callback threads (whole-
// catalogue requests, large candidate lists), so health checks and cheap calls are not queued
// behind them. Threads start in the constructor and live until the destructor, so their
// thread-local scratch is built once. Tasks run in submission order; the destructor runs every
// task already submitted, then joins. Thread-safe.
#ifndef RANKER_SERVER_RANK_WORKERS_H_
#define RANKER_SERVER_RANK_WORKERS_H_

#include <deque>
#include <functional>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "common/mutex.h"

namespace ranker {

class RankWorkers {
 public:
  // `threads` 0 means one per core.
  explicit RankWorkers(unsigned threads);
  ~RankWorkers();
  RankWorkers(const RankWorkers&) = delete;
  RankWorkers& operator=(const RankWorkers&) = delete;

  // Queues `task`. The caller bounds how many are queued (the server's max_concurrent).
  // REQUIRES: the destructor has not started (a task queued after it may never run).
  void Submit(std::function<void()> task);
  size_t size() const { return threads_.size(); }

 private:
  void Work();

  Mutex mu_;
  CondVar ready_{&mu_};
  std::deque<std::function<void()>> tasks_ ABSL_GUARDED_BY(mu_);
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  std::vector<std::thread> threads_;
};

}  // namespace ranker

#endif  // RANKER_SERVER_RANK_WORKERS_H_
