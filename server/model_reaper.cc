#include "server/model_reaper.h"

#include <chrono>

namespace ranker {

std::shared_ptr<ModelReaper> ModelReaper::Create() {
  std::shared_ptr<ModelReaper> reaper(new ModelReaper());
  reaper->thread_ = std::thread([raw = reaper.get()] { raw->Loop(); });
  return reaper;
}

ModelReaper::~ModelReaper() { Stop(); }

std::shared_ptr<const Model> ModelReaper::Adopt(std::unique_ptr<const Model> model) {
  // The deleter holds the reaper alive until the model is gone.
  return std::shared_ptr<const Model>(
      model.release(), [self = shared_from_this()](const Model* m) { self->Retire(m); });
}

void ModelReaper::Retire(const Model* model) {
  {
    MutexLock lock(&mu_);
    if (!stopping_) {
      queue_.push_back(model);
      wake_.Signal();
      return;
    }
    ++destroyed_inline_;
  }
  delete model;
}

void ModelReaper::Loop() {
  for (;;) {
    const Model* model = nullptr;
    {
      MutexLock lock(&mu_);
      while (!stopping_ && queue_.empty()) wake_.Wait();
      if (queue_.empty()) return;
      model = queue_.front();
      queue_.pop_front();
    }
    delete model;
    MutexLock lock(&mu_);
    ++destroyed_on_thread_;
    destroyed_.SignalAll();
  }
}

void ModelReaper::Stop() {
  {
    MutexLock lock(&mu_);
    if (stopping_) return;
    stopping_ = true;
  }
  wake_.SignalAll();
  // Loop drains the queue before it returns.
  if (thread_.joinable() && !OnReaperThread()) thread_.join();
}

size_t ModelReaper::destroyed_on_reaper_thread() const {
  MutexLock lock(&mu_);
  return destroyed_on_thread_;
}

size_t ModelReaper::destroyed_inline() const {
  MutexLock lock(&mu_);
  return destroyed_inline_;
}

bool ModelReaper::WaitForDestroyed(size_t count, absl::Duration timeout) const {
  const auto deadline = std::chrono::steady_clock::now() + absl::ToChronoNanoseconds(timeout);
  MutexLock lock(&mu_);
  while (destroyed_on_thread_ < count) {
    const auto now = std::chrono::steady_clock::now();
    if (now >= deadline) return false;
    destroyed_.WaitFor(deadline - now);
  }
  return true;
}

}  // namespace ranker
