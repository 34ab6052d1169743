// Fuzzes request handling on a loaded model: arbitrary bytes as a RankRequest go through the
// real RankerService (validation, version pinning, unknown-id policy, scoring, response) over
// a ModelManager that loaded a demo model from a real store, under both unknown-id policies.
#include <grpcpp/server_context.h>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <memory>

#include "model/demo_model.h"
#include "model_store/snapshot_store.h"
#include "server/model_manager.h"
#include "server/ranker_service.h"

namespace {

struct Services {
  std::unique_ptr<ranker::ModelManager> manager;
  ranker::NullRequestObserver observer;
  std::unique_ptr<ranker::RankerService> fallback, reject;
};

Services* services = nullptr;

std::string MakeStore() {
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
  auto snapshot = ranker::MakeDemoSnapshot(options);
  auto store = ranker::SnapshotStore::OpenPrimary(path, {.create_if_missing = true});
  if (!snapshot.ok() || !store.ok() || !(*store)->Publish(*snapshot).ok()) std::abort();
  return path;
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int* /*argc*/, char*** /*argv*/) {
  const std::string path = MakeStore();
  auto store = ranker::SnapshotStore::OpenSecondary(path);
  if (!store.ok()) std::abort();
  services = new Services;
  services->manager =
      std::make_unique<ranker::ModelManager>(*std::move(store), ranker::ModelManagerOptions());
  services->manager->Poll();
  if (services->manager->Current() == nullptr) std::abort();
  std::filesystem::remove_all(std::filesystem::path(path).parent_path());  // loaded; not needed
  ranker::RankLimits limits;
  limits.max_k = 50;
  limits.max_candidates = 500;
  services->fallback =
      std::make_unique<ranker::RankerService>(services->manager.get(), limits, &services->observer);
  limits.unknown_ids = ranker::UnknownIdPolicy::kReject;
  services->reject =
      std::make_unique<ranker::RankerService>(services->manager.get(), limits, &services->observer);
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  ranker::v1::RankRequest request;
  if (!request.ParseFromArray(data, static_cast<int>(size))) return 0;
  for (ranker::RankerService* service : {services->fallback.get(), services->reject.get()}) {
    grpc::ServerContext context;
    ranker::v1::RankResponse response;
    const grpc::Status status = service->Rank(&context, &request, &response);
    // Contract checks: a successful response holds at most k distinct items, best first.
    if (status.ok()) {
      if (static_cast<uint32_t>(response.items_size()) > request.k()) std::abort();
      for (int i = 1; i < response.items_size(); ++i) {
        if (response.items(i - 1).score() < response.items(i).score()) std::abort();
      }
    } else if (status.error_message().empty()) {
      std::abort();  // every refusal must say why
    }
  }
  return 0;
}
