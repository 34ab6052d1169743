// The serving path with its transport: a real RankerServer in this process over a real store,
// called over loopback gRPC, counting every heap allocation of the process per call (client and
// server together; allocation_counter.h). Compare:
//   BM_ServiceRank   RankerService alone (parsing the request's bytes, validation, model,
//                    response on the server's message pool, metrics): ours
//   BM_RpcEmpty      the health check over gRPC: the transport's floor
//   BM_RpcRank       Rank over gRPC: the floor plus what Rank's messages and ours add
// benchmarks/rpc_allocations.sh names the origins of the server's allocations with heaptrack.
#include <benchmark/benchmark.h>
#include <grpcpp/grpcpp.h>
#include <stdlib.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <random>

#include "absl/synchronization/mutex.h"
#include "benchmarks/allocation_counter.h"
#include "model/demo_model.h"
#include "model_store/snapshot_store.h"
#include "proto/grpc_health.grpc.pb.h"
#include "server/message_pool.h"
#include "server/ranker_server.h"
#include "server/wire_messages.h"

namespace ranker {
namespace {

constexpr uint64_t kUsers = 100000, kItems = 10000;

// The demo model of docs/performance.md (memcom 16x, d = 32, MLP 96-64-32-1), published once.
const std::string& StorePath() {
  static const std::string path = [] {
    char pattern[] = "/tmp/ranker-rpc-bench-XXXXXX";
    const std::string dir = mkdtemp(pattern);
    const std::string store = dir + "/store";
    auto primary = SnapshotStore::OpenPrimary(store, {.create_if_missing = true});
    DemoModelOptions options;
    options.users = kUsers;
    options.items = kItems;
    options.d = 32;
    options.hidden = {64, 32};
    absl::StatusOr<Snapshot> snapshot = MakeDemoSnapshot(options);
    if (!primary.ok() || !snapshot.ok() || !(*primary)->Publish(*snapshot).ok()) {
      std::fprintf(stderr, "cannot publish the benchmark model in %s\n", store.c_str());
      std::abort();
    }
    std::atexit(
        [] { std::filesystem::remove_all(std::filesystem::path(StorePath()).parent_path()); });
    return store;
  }();
  return path;
}

// One server for the whole run, listening on a free loopback port.
RankerServer& Server() {
  static RankerServer* server = [] {
    ServerConfig config;
    config.store_path = StorePath();
    config.listen = "127.0.0.1:0";
    config.admin_listen = "";
    config.metrics_listen = "";
    config.credentials = grpc::InsecureServerCredentials();
    auto* started = new RankerServer(config);
    if (absl::Status status = started->Start(); !status.ok()) {
      std::fprintf(stderr, "server: %s\n", std::string(status.message()).c_str());
      std::abort();
    }
    return started;
  }();
  return *server;
}

std::shared_ptr<grpc::Channel> Channel() {
  static auto channel = grpc::CreateChannel("127.0.0.1:" + std::to_string(Server().port()),
                                            grpc::InsecureChannelCredentials());
  return channel;
}

v1::RankRequest RankRequest(int candidates, uint64_t seed) {
  std::mt19937_64 rng(seed);
  v1::RankRequest request;
  request.set_user_id(rng() % kUsers);
  request.set_k(10);
  for (int c = 0; c < candidates; ++c) request.add_candidate_ids(rng() % kItems);
  return request;
}

void ReportAllocations(benchmark::State& state, uint64_t before) {
  state.counters["allocs/call"] =
      static_cast<double>(AllocationCount() - before) / static_cast<double>(state.iterations());
}

void BM_ServiceRank(benchmark::State& state) {
  auto store = SnapshotStore::OpenSecondary(StorePath());
  ModelManager manager(*std::move(store), ModelManagerOptions());
  manager.Poll();
  NullRequestObserver observer;
  RankerService service(&manager, RankLimits(), &observer);
  const v1::RankRequest request = RankRequest(static_cast<int>(state.range(0)), 1);
  MessagePool<v1::RankResponse> messages;  // as the server's Rank method has
  grpc::ByteBuffer wire;                   // the request as it arrives
  bool own_buffer = false;
  if (!grpc::SerializationTraits<v1::RankRequest>::Serialize(request, &wire, &own_buffer).ok()) {
    state.SkipWithError("cannot serialize the request");
    return;
  }
  const auto deadline = std::chrono::system_clock::now() + std::chrono::hours(1);
  const auto call = [&] {
    auto* holder = messages.AllocateMessages();
    auto* parsed =
        google::protobuf::Arena::CreateMessage<v1::RankRequest>(holder->response()->GetArena());
    const bool ok = ParseRequest(wire, parsed).ok() &&
                    service.RankBefore(deadline, *parsed, holder->response()).ok();
    holder->Release();
    return ok;
  };
  if (!call()) state.SkipWithError("Rank failed");
  const uint64_t before = AllocationCount();
  for (auto _ : state) benchmark::DoNotOptimize(call());
  ReportAllocations(state, before);
}
BENCHMARK(BM_ServiceRank)->Arg(100)->Unit(benchmark::kMicrosecond);

void BM_RpcEmpty(benchmark::State& state) {
  auto stub = grpc::health::v1::Health::NewStub(Channel());
  grpc::health::v1::HealthCheckRequest request;
  grpc::health::v1::HealthCheckResponse response;
  const auto call = [&] {
    grpc::ClientContext context;
    return stub->Check(&context, request, &response).ok();
  };
  if (!call()) state.SkipWithError("health check failed");
  const uint64_t before = AllocationCount();
  for (auto _ : state) benchmark::DoNotOptimize(call());
  ReportAllocations(state, before);
}
BENCHMARK(BM_RpcEmpty)->Unit(benchmark::kMicrosecond)->UseRealTime();

void BM_RpcRank(benchmark::State& state) {
  auto stub = v1::Ranker::NewStub(Channel());
  const v1::RankRequest request = RankRequest(static_cast<int>(state.range(0)), 2);
  v1::RankResponse response;
  const auto call = [&] {
    grpc::ClientContext context;
    return stub->Rank(&context, request, &response).ok();
  };
  if (!call()) state.SkipWithError("Rank failed");
  const uint64_t before = AllocationCount();
  for (auto _ : state) benchmark::DoNotOptimize(call());
  ReportAllocations(state, before);
}
BENCHMARK(BM_RpcRank)->Arg(100)->Arg(1000)->Unit(benchmark::kMicrosecond)->UseRealTime();

}  // namespace
}  // namespace ranker

int main(int argc, char** argv) {
  absl::SetMutexDeadlockDetectionMode(absl::OnDeadlockCycle::kIgnore);  // as ranker-server does
  benchmark::Initialize(&argc, argv);
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
