// Fuzzes request handling on a loaded model: arbitrary bytes as a RankRequest go through the
// real RankerService (validation, version pinning, unknown-id policy, scoring, response) over
// a ModelManager that loaded a demo model from a real store, under both unknown-id policies,
// and over a history model whose users' histories are read from the store per request. The
// server's retrieve_n (50) is below the catalogue (200), so whole-catalogue requests run two
// stages unless the request asks otherwise.

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <memory>

#include "model/demo_model.h"
#include "model_store/history_store.h"
#include "model_store/snapshot_store.h"
#include "server/model_manager.h"
#include "server/ranker_service.h"
#include "server/stored_histories.h"
#include "server/wire_messages.h"

namespace {

struct Services {
  std::unique_ptr<ranker::ModelManager> manager, history_manager;
  std::unique_ptr<ranker::StoredHistories> histories;
  std::string history_dir;  // read per request, so kept until exit
  ranker::NullRequestObserver observer;
  std::unique_ptr<ranker::RankerService> fallback, reject, history;
};

Services* services = nullptr;

std::string MakeStore(ranker::snapshot::UserMode user_mode) {
  char pattern[] = "/tmp/rank-request-fuzzer-XXXXXX";
  const char* dir = mkdtemp(pattern);
  if (dir == nullptr) std::abort();
  std::string path = std::string(dir) + "/store";
  ranker::DemoModelOptions options;
  options.users = 300;
  options.items = 200;
  options.d = 8;
  options.hidden = {8};
  options.ratio = 4;
  options.sparse_item_ids = true;
  options.user_mode = user_mode;
  auto snapshot = ranker::MakeDemoSnapshot(options);
  {
    auto store = ranker::SnapshotStore::OpenPrimary(path, {.create_if_missing = true});
    if (!snapshot.ok() || !store.ok() || !(*store)->Publish(*snapshot).ok()) std::abort();
  }
  if (user_mode == ranker::snapshot::USER_MODE_HISTORY) {
    auto writer = ranker::HistoryStore::OpenWriter(path);
    if (!writer.ok() ||
        !(*writer)->Append(ranker::MakeDemoHistories(options, options.users), 200).ok()) {
      std::abort();
    }
  }
  return path;
}

std::unique_ptr<ranker::ModelManager> LoadManager(const std::string& path) {
  auto store = ranker::SnapshotStore::OpenSecondary(path);
  if (!store.ok()) std::abort();
  auto manager =
      std::make_unique<ranker::ModelManager>(*std::move(store), ranker::ModelManagerOptions());
  manager->Poll();
  if (manager->Current() == nullptr) std::abort();
  return manager;
}

void RemoveHistoryStore() {
  if (services != nullptr) {
    services->histories.reset();
    std::filesystem::remove_all(std::filesystem::path(services->history_dir).parent_path());
  }
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int* /*argc*/, char*** /*argv*/) {
  const std::string path = MakeStore(ranker::snapshot::USER_MODE_ID);
  services = new Services;
  services->manager = LoadManager(path);
  std::filesystem::remove_all(std::filesystem::path(path).parent_path());  // loaded; not needed
  services->history_dir = MakeStore(ranker::snapshot::USER_MODE_HISTORY);
  services->history_manager = LoadManager(services->history_dir);
  services->histories = std::make_unique<ranker::StoredHistories>(services->history_dir, 1 << 20);
  if (!services->histories->Refresh().ok()) std::abort();
  std::atexit(RemoveHistoryStore);
  ranker::RankLimits limits;
  limits.max_k = 50;
  limits.max_candidates = 500;
  limits.retrieve_n = 50;
  limits.max_retrieve_n = 1000;
  services->fallback =
      std::make_unique<ranker::RankerService>(services->manager.get(), limits, &services->observer);
  limits.unknown_ids = ranker::UnknownIdPolicy::kReject;
  services->reject =
      std::make_unique<ranker::RankerService>(services->manager.get(), limits, &services->observer);
  limits.unknown_ids = ranker::UnknownIdPolicy::kFallback;
  limits.max_history_ids = 300;
  limits.max_history = 20;
  services->history = std::make_unique<ranker::RankerService>(
      services->history_manager.get(), limits, &services->observer, services->histories.get());
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  // Through the service's own parser, as bytes arrive over the wire: bytes that are not a
  // request must be refused with INVALID_ARGUMENT and a message.
  grpc::Slice slice(data, size);
  const grpc::ByteBuffer bytes(&slice, 1);
  ranker::v1::RankRequest request;
  if (const grpc::Status parsed = ranker::ParseRequest(bytes, &request); !parsed.ok()) {
    if (parsed.error_code() != grpc::StatusCode::INVALID_ARGUMENT ||
        parsed.error_message().empty()) {
      std::abort();
    }
    return 0;
  }
  for (ranker::RankerService* service :
       {services->fallback.get(), services->reject.get(), services->history.get()}) {
    ranker::v1::RankResponse response;
    const grpc::Status status = service->RankBefore(
        std::chrono::system_clock::now() + std::chrono::hours(1), request, &response);
    // Contract checks: a successful response holds at most k distinct items, best first.
    if (status.ok()) {
      if (static_cast<uint32_t>(response.items_size()) > request.k()) std::abort();
      for (int i = 1; i < response.items_size(); ++i) {
        if (response.items(i - 1).score() < response.items(i).score()) std::abort();
      }
      // Two stages score at most N (at least k) items with the scorer, never fewer than k.
      const ranker::v1::RankStages& stages = response.stages();
      if (stages.retrieval_scored() > 0 &&
          (stages.ranked() > stages.retrieve_n() || stages.retrieve_n() < request.k())) {
        std::abort();
      }
    } else if (status.error_message().empty()) {
      std::abort();  // every refusal must say why
    }
  }
  return 0;
}
