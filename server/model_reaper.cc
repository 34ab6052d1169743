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
    std::lock_guard lock(mu_);
    if (!stopping_) {
      queue_.push_back(model);
      wake_.notify_one();
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
      std::unique_lock lock(mu_);
      wake_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
      if (queue_.empty()) return;
      model = queue_.front();
      queue_.pop_front();
    }
    delete model;
    std::lock_guard lock(mu_);
    ++destroyed_on_thread_;
  }
}

void ModelReaper::Stop() {
  {
    std::lock_guard lock(mu_);
    if (stopping_) return;
    stopping_ = true;
  }
  wake_.notify_all();
  // Loop drains the queue before it returns.
  if (thread_.joinable() && !OnReaperThread()) thread_.join();
}

size_t ModelReaper::destroyed_on_reaper_thread() const {
  std::lock_guard lock(mu_);
  return destroyed_on_thread_;
}

size_t ModelReaper::destroyed_inline() const {
  std::lock_guard lock(mu_);
  return destroyed_inline_;
}

}  // namespace ranker
