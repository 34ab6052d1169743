// Owns the models the server can serve and replaces them as the store publishes new versions.
//
// Requests pin a model with Current() or Get(): the shared_ptr keeps that version alive for
// the whole request even if a reload swaps it out meanwhile (LevelDB's Ref/Unref, TF Serving's
// handles). Reloads run in Poll(): catch up with the store, ask DecideReload what to do, load
// the new version completely (checksums, shapes), score a smoke request, and only then swap.
// A failed load keeps what is serving and is not retried until a newer version appears. Old
// models are destroyed by a ModelReaper, off the request threads.
//
// Thread-safe. Poll() calls are serialised. Current() takes no mutex: it loads an
// std::atomic<std::shared_ptr>, which libstdc++ 12 implements with a spin bit held for the
// reference-count increment (so it is not lock-free in the is_lock_free() sense, but it never
// waits for a reload).
#ifndef RANKER_SERVER_MODEL_MANAGER_H_
#define RANKER_SERVER_MODEL_MANAGER_H_

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "common/mutex.h"
#include "model/model.h"
#include "model_store/model_loader.h"
#include "model_store/snapshot_store.h"
#include "server/model_reaper.h"
#include "server/reload_policy.h"

namespace ranker {

struct ModelManagerOptions {
  size_t keep_versions = 1;
  // Non-empty: a specific version policy. Only these versions of the store are ever loaded
  // (all of them, as the store has them: set keep_versions to their count); the newest of them
  // serves requests that name no version.
  std::vector<uint64_t> only_versions;
  ReloadPolicy policy = ReloadPolicy::kAvailabilityPreserving;
  LoadOptions load;
  // Runs at the start of every Poll (watcher, SIGHUP, admin Reload), under Poll's lock: what
  // else follows the store (the stored histories) catches up on the same schedule, and before
  // a model published with new histories goes live. Must not call back into the manager.
  std::function<void()> before_poll;
};

// What one Poll() did.
struct ReloadEvent {
  enum class Result { kNoChange, kLoaded, kFailed, kStoreError };
  Result result = Result::kNoChange;
  uint64_t version = 0;  // the version loaded or attempted
  absl::Status status;   // why it failed
  double seconds = 0;    // load + verify + warm-up time
};

struct LoadedVersion {
  uint64_t version;
  int64_t loaded_unix_seconds;
  double load_seconds;
  size_t resident_bytes;
  std::shared_ptr<const Model> model;
};

class ModelManager {
 public:
  using Listener = std::function<void(const ReloadEvent&)>;

  ModelManager(std::unique_ptr<SnapshotStore> store, ModelManagerOptions options);
  ~ModelManager();  // stops the watcher

  // The newest loaded model, or nullptr before the first successful load.
  std::shared_ptr<const Model> Current() const { return current_.load(); }
  // `version` 0 = Current(). UNAVAILABLE if nothing is loaded; NOT_FOUND if `version` is not.
  absl::StatusOr<std::shared_ptr<const Model>> Get(uint64_t version) const;
  // Loaded versions, ascending, with their load figures.
  std::vector<LoadedVersion> Loaded() const;

  // Versions reloads never unload (the ones labels name: server/model_registry.h), kept beside
  // the newest keep_versions. Set replaces the set, Add extends it.
  void SetProtectedVersions(std::vector<uint64_t> versions);
  void AddProtectedVersions(const std::vector<uint64_t>& versions);

  // One reload step (see the file comment); blocks until it is done. If a load fails it
  // decides again, so an older good version can be loaded in the same step. Returns the last
  // load attempt (kNoChange if there was none).
  ReloadEvent Poll();
  // Called after every load attempt and store error, on the polling thread while Poll's lock
  // is held: the listener must not call Poll().
  void SetListener(Listener listener);

  // Polls every `interval` on a background thread, and at once after RequestPoll().
  void StartWatcher(absl::Duration interval);
  void RequestPoll();
  void StopWatcher();

  // The reaper that destroys retired models (for tests).
  const ModelReaper& reaper() const { return *reaper_; }

 private:
  absl::Status LoadAndSwap(uint64_t version, const ReloadAction& action, ReloadEvent* event)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(poll_mu_);
  void Unload(const std::vector<uint64_t>& versions);
  void Notify(const ReloadEvent& event);
  void PublishCurrent() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  const ModelManagerOptions options_;
  std::shared_ptr<ModelReaper> reaper_;
  std::atomic<std::shared_ptr<const Model>> current_;

  // Lock order: poll_mu_ before mu_; watch_mu_ is never held with either.
  Mutex poll_mu_;  // serialises Poll(); guards the store's CatchUp
  std::unique_ptr<SnapshotStore> store_ ABSL_GUARDED_BY(poll_mu_);
  std::vector<uint64_t> failed_ ABSL_GUARDED_BY(poll_mu_);

  mutable Mutex mu_;
  std::map<uint64_t, LoadedVersion> loaded_ ABSL_GUARDED_BY(mu_);
  std::vector<uint64_t> protected_versions_ ABSL_GUARDED_BY(mu_);
  Listener listener_ ABSL_GUARDED_BY(mu_);

  Mutex watch_mu_;
  CondVar watch_cv_{&watch_mu_};
  bool poll_requested_ ABSL_GUARDED_BY(watch_mu_) = false;
  bool stop_watcher_ ABSL_GUARDED_BY(watch_mu_) = false;
  std::thread watcher_;
};

// Scores a small request on `model` and checks the result is well-formed: the warm-up that
// proves a model can serve before it is swapped in.
absl::Status SmokeTest(const Model& model);

}  // namespace ranker

#endif  // RANKER_SERVER_MODEL_MANAGER_H_
