// Destroys retired models on its own thread, so the request that drops the last reference to
// an old model never pays for freeing gigabytes. Thread-safe.
#ifndef RANKER_SERVER_MODEL_REAPER_H_
#define RANKER_SERVER_MODEL_REAPER_H_

#include <deque>
#include <memory>
#include <thread>

#include "absl/base/thread_annotations.h"
#include "absl/time/time.h"
#include "common/mutex.h"
#include "model/model.h"

namespace ranker {

class ModelReaper : public std::enable_shared_from_this<ModelReaper> {
 public:
  static std::shared_ptr<ModelReaper> Create();
  ~ModelReaper();

  // Shares ownership of `model`; when the last reference goes, the model is handed to the
  // reaper thread (or destroyed inline if the reaper has stopped).
  std::shared_ptr<const Model> Adopt(std::unique_ptr<const Model> model);

  // Destroys everything queued and stops the thread. Idempotent.
  void Stop();
  // Models destroyed so far on the reaper thread, and inline after Stop (for tests).
  size_t destroyed_on_reaper_thread() const;
  size_t destroyed_inline() const;
  // Waits until at least `count` models were destroyed on the reaper thread; false on timeout.
  bool WaitForDestroyed(size_t count, absl::Duration timeout) const;
  // True if called on the reaper thread (for tests).
  bool OnReaperThread() const { return std::this_thread::get_id() == thread_.get_id(); }

 private:
  ModelReaper() = default;
  void Retire(const Model* model);
  void Loop();

  mutable Mutex mu_;
  mutable CondVar wake_{&mu_};       // work queued or stopping
  mutable CondVar destroyed_{&mu_};  // a model was destroyed on the thread
  std::deque<const Model*> queue_ ABSL_GUARDED_BY(mu_);
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  size_t destroyed_on_thread_ ABSL_GUARDED_BY(mu_) = 0;
  size_t destroyed_inline_ ABSL_GUARDED_BY(mu_) = 0;
  std::thread thread_;
};

}  // namespace ranker

#endif  // RANKER_SERVER_MODEL_REAPER_H_
