// The floor for `ranker-client bench --rpc empty`: the least a gRPC unary call can cost on this
// machine with this gRPC, built as the ranker is (callback-API server, completion-queue client).
//
//   ranker_echo_floor serve [--api async]       # a server whose health check always answers
//                                               # SERVING; prints "listening on 127.0.0.1:PORT"
//   ranker_echo_floor load --target 127.0.0.1:PORT --concurrency 8 --duration 8s
//                                               # health checks, `concurrency` in flight from one
//                                               # thread; prints calls/s
//
// Serving and loading are separate processes, as ranker-server and ranker-client are, so each
// side can be swapped for the real one (benchmarks/rpc_cost.sh runs all four pairings).
// `serve --api async` is the completion-queue server (one queue per thread), measured against
// the callback API before ranker-server moved to the latter (docs/performance.md).
#include <grpcpp/grpcpp.h>
#include <signal.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "proto/grpc_health.grpc.pb.h"

ABSL_FLAG(std::string, target, "127.0.0.1:50051", "load: the server.");
ABSL_FLAG(int, concurrency, 8, "load: calls in flight, all from one thread.");
ABSL_FLAG(absl::Duration, duration, absl::Seconds(8), "load: how long.");
ABSL_FLAG(int, port, 0, "serve: port on 127.0.0.1 (0 = any free one).");
ABSL_FLAG(std::string, api, "callback",
          "serve: callback (gRPC's callback API, as ranker-server) or async (completion "
          "queues, one per --threads thread).");
ABSL_FLAG(int, threads, 2, "serve --api async: threads, each polling its own queue.");

namespace {

using grpc::health::v1::Health;
using grpc::health::v1::HealthCheckRequest;
using grpc::health::v1::HealthCheckResponse;

class AlwaysServing final : public Health::CallbackService {
 public:
  using Health::CallbackService::Check;
  grpc::ServerUnaryReactor* Check(grpc::CallbackServerContext* context,
                                  const HealthCheckRequest* /*request*/,
                                  HealthCheckResponse* response) override {
    response->set_status(HealthCheckResponse::SERVING);
    grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
    reactor->Finish(grpc::Status::OK);
    return reactor;
  }
};

// One health check in flight on an asynchronous server: requested, answered, requested again.
class AsyncCheck {
 public:
  AsyncCheck(Health::AsyncService* service, grpc::ServerCompletionQueue* queue)
      : service_(service), queue_(queue) {
    Request();
  }
  // Called with this call's tag from the queue.
  void Proceed(bool ok) {
    if (!ok) return;  // shutting down
    if (answered_) {
      Request();
      return;
    }
    response_.set_status(HealthCheckResponse::SERVING);
    answered_ = true;
    writer_->Finish(response_, grpc::Status::OK, this);
  }

 private:
  void Request() {
    answered_ = false;
    writer_.reset();  // a context and its writer serve one call only
    context_.emplace();
    writer_.emplace(&*context_);
    service_->RequestCheck(&*context_, &request_, &*writer_, queue_, queue_, this);
  }

  Health::AsyncService* service_;
  grpc::ServerCompletionQueue* queue_;
  std::optional<grpc::ServerContext> context_;
  HealthCheckRequest request_;
  HealthCheckResponse response_;
  std::optional<grpc::ServerAsyncResponseWriter<HealthCheckResponse>> writer_;
  bool answered_ = false;
};

int ServeAsync();

int Serve() {
  if (absl::GetFlag(FLAGS_api) == "async") return ServeAsync();
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  AlwaysServing service;
  int port = 0;
  grpc::ServerBuilder builder;
  builder.AddListeningPort("127.0.0.1:" + std::to_string(absl::GetFlag(FLAGS_port)),
                           grpc::InsecureServerCredentials(), &port);
  builder.RegisterService(&service);
  std::unique_ptr<grpc::Server> server = builder.BuildAndStart();
  if (server == nullptr || port == 0) {
    std::fprintf(stderr, "ranker_echo_floor: cannot listen\n");
    return 1;
  }
  std::printf("listening on 127.0.0.1:%d\n", port);
  std::fflush(stdout);
  int signal_number = 0;
  sigwait(&signals, &signal_number);
  server->Shutdown();
  return 0;
}

int ServeAsync() {
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  Health::AsyncService service;
  int port = 0;
  grpc::ServerBuilder builder;
  builder.AddListeningPort("127.0.0.1:" + std::to_string(absl::GetFlag(FLAGS_port)),
                           grpc::InsecureServerCredentials(), &port);
  builder.RegisterService(&service);
  const int threads = std::max(1, absl::GetFlag(FLAGS_threads));
  std::vector<std::unique_ptr<grpc::ServerCompletionQueue>> queues;
  for (int t = 0; t < threads; ++t) queues.push_back(builder.AddCompletionQueue());
  std::unique_ptr<grpc::Server> server = builder.BuildAndStart();
  if (server == nullptr || port == 0) {
    std::fprintf(stderr, "ranker_echo_floor: cannot listen\n");
    return 1;
  }
  std::vector<std::thread> pollers;
  for (auto& queue : queues) {
    pollers.emplace_back([&service, queue = queue.get()] {
      std::vector<std::unique_ptr<AsyncCheck>> calls;
      for (int c = 0; c < 64; ++c) calls.push_back(std::make_unique<AsyncCheck>(&service, queue));
      void* tag = nullptr;
      bool ok = false;
      while (queue->Next(&tag, &ok)) static_cast<AsyncCheck*>(tag)->Proceed(ok);
    });
  }
  std::printf("listening on 127.0.0.1:%d\n", port);
  std::fflush(stdout);
  int signal_number = 0;
  sigwait(&signals, &signal_number);
  server->Shutdown();
  for (auto& queue : queues) queue->Shutdown();
  for (auto& poller : pollers) poller.join();
  return 0;
}

struct Call {
  std::optional<grpc::ClientContext> context;
  HealthCheckResponse response;
  grpc::Status status;
  std::unique_ptr<grpc::ClientAsyncResponseReader<HealthCheckResponse>> reader;
};

int Load() {
  auto channel =
      grpc::CreateChannel(absl::GetFlag(FLAGS_target), grpc::InsecureChannelCredentials());
  auto stub = Health::NewStub(channel);
  grpc::CompletionQueue queue;
  const HealthCheckRequest request;
  std::vector<Call> calls(std::max(1, absl::GetFlag(FLAGS_concurrency)));
  const auto start_call = [&](Call* call) {
    call->context.emplace();
    call->reader = stub->AsyncCheck(&*call->context, request, &queue);
    call->reader->Finish(&call->response, &call->status, call);
  };
  const auto begin = std::chrono::steady_clock::now();
  const auto stop_at = begin + absl::ToChronoNanoseconds(absl::GetFlag(FLAGS_duration));
  for (Call& call : calls) start_call(&call);
  size_t in_flight = calls.size();
  uint64_t completed = 0, failed = 0;
  void* tag = nullptr;
  bool ok = false;
  while (in_flight > 0 && queue.Next(&tag, &ok)) {
    auto* call = static_cast<Call*>(tag);
    call->status.ok() ? ++completed : ++failed;
    if (std::chrono::steady_clock::now() < stop_at) {
      start_call(call);
    } else {
      --in_flight;
    }
  }
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - begin).count();
  std::printf("%.0f calls/s (%lu calls in %.1f s, %lu failed)\n", completed / seconds,
              static_cast<unsigned long>(completed), seconds, static_cast<unsigned long>(failed));
  queue.Shutdown();
  while (queue.Next(&tag, &ok)) {
  }
  return failed == 0 ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<char*> args = absl::ParseCommandLine(argc, argv);
  absl::SetMutexDeadlockDetectionMode(absl::OnDeadlockCycle::kIgnore);  // as ranker-server does
  const std::string mode = args.size() > 1 ? args[1] : "";
  if (mode == "serve") return Serve();
  if (mode == "load") return Load();
  std::fprintf(stderr,
               "usage: ranker_echo_floor serve [--port P] | load --target HOST:PORT "
               "[--concurrency 8] [--duration 8s]\n");
  return 2;
}
