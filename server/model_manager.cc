#include "server/model_manager.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <ctime>

#include "absl/strings/str_cat.h"
#include "common/log.h"
#include "common/status_macros.h"

namespace ranker {

absl::Status SmokeTest(const Model& model) {
  const uint64_t n = model.item().table.size();
  std::vector<uint64_t> candidates;
  for (uint64_t i = 0; i < std::min<uint64_t>(n, 64); ++i)
    candidates.push_back(model.item().ids.ToId(i));
  RankScratch scratch;
  RankResult result;
  const size_t k = std::min<size_t>(10, candidates.size());
  RankQuery query;
  query.candidates = candidates;
  query.k = k;
  // A history model pools the first item's input row; an id model scores the first user.
  const uint64_t first_item = candidates.empty() ? 0 : candidates.front();
  if (model.history_mode()) {
    query.history = absl::MakeConstSpan(&first_item, candidates.empty() ? 0 : 1);
    query.include_seen = true;
  } else {
    query.user_id = model.user().ids.ToId(0);
  }
  model.Rank(query, &scratch, &result);
  if (result.items.size() != k) {
    return absl::InternalError(
        absl::StrCat("smoke rank returned ", result.items.size(), " items, expected ", k));
  }
  for (const ScoredId& item : result.items) {
    if (!std::isfinite(item.score)) {
      return absl::FailedPreconditionError(
          absl::StrCat("smoke rank scored item ", item.id, " as ", item.score));
    }
  }
  return absl::OkStatus();
}

ModelManager::ModelManager(std::unique_ptr<SnapshotStore> store, ModelManagerOptions options)
    : options_(options), reaper_(ModelReaper::Create()), store_(std::move(store)) {}

ModelManager::~ModelManager() {
  StopWatcher();
  {
    MutexLock lock(&mu_);
    loaded_.clear();
  }
  current_.store(nullptr);
}

absl::StatusOr<std::shared_ptr<const Model>> ModelManager::Get(uint64_t version) const {
  if (version == 0) {
    std::shared_ptr<const Model> model = Current();
    if (model == nullptr) return absl::UnavailableError("no model is loaded yet");
    return model;
  }
  MutexLock lock(&mu_);
  if (loaded_.empty()) return absl::UnavailableError("no model is loaded yet");
  auto it = loaded_.find(version);
  if (it == loaded_.end()) {
    std::string versions;
    for (const auto& [v, entry] : loaded_)
      absl::StrAppend(&versions, versions.empty() ? "" : ", ", v);
    return absl::NotFoundError(
        absl::StrCat("model version ", version, " is not loaded (loaded: ", versions, ")"));
  }
  return it->second.model;
}

std::vector<LoadedVersion> ModelManager::Loaded() const {
  MutexLock lock(&mu_);
  std::vector<LoadedVersion> out;
  for (const auto& [version, entry] : loaded_) out.push_back(entry);
  return out;
}

void ModelManager::SetListener(Listener listener) {
  MutexLock lock(&mu_);
  listener_ = std::move(listener);
}

void ModelManager::PublishCurrent() {
  current_.store(loaded_.empty() ? nullptr : loaded_.rbegin()->second.model);
}

void ModelManager::Unload(const std::vector<uint64_t>& versions) {
  MutexLock lock(&mu_);
  for (uint64_t version : versions) loaded_.erase(version);
  PublishCurrent();
}

void ModelManager::SetProtectedVersions(std::vector<uint64_t> versions) {
  MutexLock lock(&mu_);
  protected_versions_ = std::move(versions);
}

void ModelManager::AddProtectedVersions(const std::vector<uint64_t>& versions) {
  MutexLock lock(&mu_);
  protected_versions_.insert(protected_versions_.end(), versions.begin(), versions.end());
}

ReloadEvent ModelManager::Poll() {
  MutexLock poll_lock(&poll_mu_);
  if (options_.before_poll) options_.before_poll();
  ReloadEvent last;
  absl::Status status = store_->CatchUp();
  absl::StatusOr<std::vector<uint64_t>> available =
      status.ok() ? store_->ListVersions() : absl::StatusOr<std::vector<uint64_t>>(status);
  if (!available.ok()) {
    last.result = ReloadEvent::Result::kStoreError;
    last.status = available.status();
    LogError("store poll failed: ", last.status.ToString());
    Notify(last);
    return last;
  }
  if (!options_.only_versions.empty()) {
    std::erase_if(*available, [&](uint64_t v) {
      return std::find(options_.only_versions.begin(), options_.only_versions.end(), v) ==
             options_.only_versions.end();
    });
  }
  // After a load, decide again: after a failure an older good version may still beat what is
  // loaded (on a fresh start, the version before a bad latest one); after a success, older
  // versions may be due (keep_versions > 1).
  for (;;) {
    ReloadState state;
    state.available = *available;
    state.failed = failed_;
    {
      MutexLock lock(&mu_);
      for (const auto& [version, entry] : loaded_) state.loaded.push_back(version);
      state.protected_versions = protected_versions_;
    }
    const ReloadAction action = DecideReload(state, options_.keep_versions, options_.policy);
    if (!action.load) break;
    ReloadEvent event;
    event.version = *action.load;
    event.status = LoadAndSwap(*action.load, action, &event);
    event.result = event.status.ok() ? ReloadEvent::Result::kLoaded : ReloadEvent::Result::kFailed;
    if (event.status.ok()) {
      const std::shared_ptr<const Model> current = Current();
      LogInfo("model version ", event.version,
              current != nullptr && current->version() != event.version
                  ? absl::StrCat(" loaded beside the newest, version ", current->version())
                  : std::string(" loaded and serving"),
              " (", event.seconds, " s)");
    } else {
      failed_.push_back(event.version);
      std::shared_ptr<const Model> current = Current();
      LogError("model version ", event.version, " rejected, keeping ",
               current ? absl::StrCat("version ", current->version()) : std::string("no model"),
               ": ", event.status.ToString());
    }
    Notify(event);
    last = event;
    // On until nothing is left to do: after the newest, keep_versions > 1 fills in older
    // versions in the same step (each iteration loads or fails a different version).
  }
  // A failed version is forgotten once neither way of choosing a load can pick it again: not
  // newer than the newest loaded one, and below the newest keep_versions available (fill-in).
  const size_t keep = std::max<size_t>(1, options_.keep_versions);
  const uint64_t window = available->size() >= keep ? (*available)[available->size() - keep] : 0;
  const uint64_t newest = Current() ? Current()->version() : 0;
  std::erase_if(failed_, [&](uint64_t v) { return v <= newest && v < window; });
  return last;
}

void ModelManager::Notify(const ReloadEvent& event) {
  Listener listener;
  {
    MutexLock lock(&mu_);
    listener = listener_;
  }
  if (listener) listener(event);
}

absl::Status ModelManager::LoadAndSwap(uint64_t version, const ReloadAction& action,
                                       ReloadEvent* event) {
  const auto start = std::chrono::steady_clock::now();
  if (action.unload_before_load) Unload(action.unload);
  absl::StatusOr<std::unique_ptr<const Model>> model = LoadModel(*store_, version, options_.load);
  // A missing chunk right after a catch-up may only be the secondary lagging (see
  // IsMissingChunk); catch up again before believing it.
  for (int retry = 0; retry < 3 && !model.ok() && IsMissingChunk(model.status()); ++retry) {
    RETURN_IF_ERROR(store_->CatchUp());
    model = LoadModel(*store_, version, options_.load);
  }
  if (!model.ok()) return model.status();
  RETURN_IF_ERROR(SmokeTest(**model));
  event->seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  LoadedVersion entry{version, static_cast<int64_t>(std::time(nullptr)), event->seconds,
                      (*model)->resident_bytes(), reaper_->Adopt(*std::move(model))};
  MutexLock lock(&mu_);
  loaded_[version] = std::move(entry);
  for (uint64_t old : action.unload) loaded_.erase(old);
  PublishCurrent();
  return absl::OkStatus();
}

void ModelManager::StartWatcher(absl::Duration interval) {
  watcher_ = std::thread([this, interval] {
    for (;;) {
      {
        MutexLock lock(&watch_mu_);
        // A steady deadline: a wall-clock step must not delay or hasten the next poll.
        const auto deadline =
            std::chrono::steady_clock::now() + absl::ToChronoNanoseconds(interval);
        for (auto now = std::chrono::steady_clock::now();
             !poll_requested_ && !stop_watcher_ && now < deadline;
             now = std::chrono::steady_clock::now()) {
          watch_cv_.WaitFor(deadline - now);
        }
        if (stop_watcher_) return;
        poll_requested_ = false;
      }
      Poll();
    }
  });
}

void ModelManager::RequestPoll() {
  {
    MutexLock lock(&watch_mu_);
    poll_requested_ = true;
  }
  watch_cv_.SignalAll();
}

void ModelManager::StopWatcher() {
  {
    MutexLock lock(&watch_mu_);
    stop_watcher_ = true;
  }
  watch_cv_.SignalAll();
  if (watcher_.joinable()) watcher_.join();
}

}  // namespace ranker
