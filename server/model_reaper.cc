#include "server/model_reaper.h"

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
    absl::MutexLock lock(&mu_);
    if (!stopping_) {
      queue_.push_back(model);
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
      absl::MutexLock lock(&mu_);
      mu_.Await(absl::Condition(
          +[](ModelReaper* r)
               ABSL_NO_THREAD_SAFETY_ANALYSIS { return r->stopping_ || !r->queue_.empty(); },
          this));
      if (queue_.empty()) return;
      model = queue_.front();
      queue_.pop_front();
    }
    delete model;
    absl::MutexLock lock(&mu_);
    ++destroyed_on_thread_;
  }
}

void ModelReaper::Stop() {
  {
    absl::MutexLock lock(&mu_);
    if (stopping_) return;
    stopping_ = true;
  }
  // Loop drains the queue before it returns.
  if (thread_.joinable() && !OnReaperThread()) thread_.join();
}

size_t ModelReaper::destroyed_on_reaper_thread() const {
  absl::MutexLock lock(&mu_);
  return destroyed_on_thread_;
}

size_t ModelReaper::destroyed_inline() const {
  absl::MutexLock lock(&mu_);
  return destroyed_inline_;
}

}  // namespace ranker
