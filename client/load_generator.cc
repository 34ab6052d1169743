#include "client/load_generator.h"

#include <grpcpp/grpcpp.h>

#include <array>
#include <atomic>
#include <chrono>
#include <memory>
#include <optional>
#include <random>
#include <thread>

#include "common/grpc_status.h"
#include "proto/grpc_health.grpc.pb.h"
#include "proto/ranker.grpc.pb.h"

namespace ranker {
namespace {

constexpr int kCodes = kGrpcStatusCodeCount;
constexpr size_t kRequestPool = 256;  // pre-built requests per worker: no client-side building

struct Worker {
  LatencyHistogram latency;
  std::array<std::atomic<uint64_t>, kCodes> errors{};
  std::atomic<uint64_t> warmup_calls{0};

  void Count(const grpc::Status& status, std::chrono::steady_clock::time_point start,
             std::chrono::steady_clock::time_point end,
             std::chrono::steady_clock::time_point measure_from) {
    if (start < measure_from) {
      warmup_calls.fetch_add(1, std::memory_order_relaxed);
    } else if (status.ok()) {
      latency.Record(std::chrono::duration_cast<std::chrono::nanoseconds>(end - start).count());
    } else {
      errors[static_cast<int>(status.error_code()) % kCodes].fetch_add(1,
                                                                       std::memory_order_relaxed);
    }
  }
};

std::vector<v1::RankRequest> MakeRequests(const LoadGeneratorOptions& options, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::vector<v1::RankRequest> requests(kRequestPool);
  for (v1::RankRequest& request : requests) {
    request.set_user_id(rng() % std::max<uint64_t>(1, options.users));
    request.set_k(options.k);
    request.set_retrieve_n(options.retrieve_n);
    for (int c = 0; c < options.candidates; ++c) {
      request.add_candidate_ids(rng() % std::max<uint64_t>(1, options.items));
    }
  }
  return requests;
}

void RunWorker(const LoadGeneratorOptions& options, const std::shared_ptr<grpc::Channel>& channel,
               uint64_t seed, std::chrono::steady_clock::time_point measure_from,
               std::chrono::steady_clock::time_point stop_at, Worker* worker) {
  auto ranker = v1::Ranker::NewStub(channel);
  auto health = grpc::health::v1::Health::NewStub(channel);
  const std::vector<v1::RankRequest> requests = MakeRequests(options, seed);
  grpc::health::v1::HealthCheckRequest health_request;
  grpc::health::v1::HealthCheckResponse health_response;
  v1::RankResponse response;
  const bool empty = options.rpc == "empty";
  for (size_t i = 0;; ++i) {
    const auto start = std::chrono::steady_clock::now();
    if (start >= stop_at) return;
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() +
                         absl::ToChronoMilliseconds(options.deadline));
    grpc::Status status = empty ? health->Check(&context, health_request, &health_response)
                                : ranker->Rank(&context, requests[i % kRequestPool], &response);
    worker->Count(status, start, std::chrono::steady_clock::now(), measure_from);
  }
}

// One call slot of an asynchronous worker: a call in flight, then the next one.
struct AsyncCall {
  size_t slot = 0;
  std::chrono::steady_clock::time_point start;
  std::optional<grpc::ClientContext> context;  // a context serves one call only
  grpc::Status status;
  v1::RankResponse rank_response;
  grpc::health::v1::HealthCheckResponse health_response;
  std::unique_ptr<grpc::ClientAsyncResponseReader<v1::RankResponse>> rank_reader;
  std::unique_ptr<grpc::ClientAsyncResponseReader<grpc::health::v1::HealthCheckResponse>>
      health_reader;
};

// `slots` calls in flight from this thread, all completing on one completion queue, until
// stop_at; then waits for the last ones to complete.
void RunAsyncWorker(const LoadGeneratorOptions& options,
                    const std::vector<std::shared_ptr<grpc::Channel>>& channels, int first_slot,
                    int slots, uint64_t seed, std::chrono::steady_clock::time_point measure_from,
                    std::chrono::steady_clock::time_point stop_at, Worker* worker) {
  grpc::CompletionQueue queue;
  std::vector<std::unique_ptr<v1::Ranker::Stub>> rankers;
  std::vector<std::unique_ptr<grpc::health::v1::Health::Stub>> healths;
  for (const auto& channel : channels) {
    rankers.push_back(v1::Ranker::NewStub(channel));
    healths.push_back(grpc::health::v1::Health::NewStub(channel));
  }
  const std::vector<v1::RankRequest> requests = MakeRequests(options, seed);
  const grpc::health::v1::HealthCheckRequest health_request;
  const bool empty = options.rpc == "empty";
  std::vector<AsyncCall> calls(slots);
  size_t next_request = 0;
  const auto start_call = [&](AsyncCall* call) {
    const size_t channel = call->slot % channels.size();
    call->context.emplace();
    call->context->set_deadline(std::chrono::system_clock::now() +
                                absl::ToChronoMilliseconds(options.deadline));
    call->start = std::chrono::steady_clock::now();
    if (empty) {
      call->health_reader = healths[channel]->AsyncCheck(&*call->context, health_request, &queue);
      call->health_reader->Finish(&call->health_response, &call->status, call);
    } else {
      call->rank_reader = rankers[channel]->AsyncRank(
          &*call->context, requests[next_request++ % kRequestPool], &queue);
      call->rank_reader->Finish(&call->rank_response, &call->status, call);
    }
  };
  for (int i = 0; i < slots; ++i) {
    calls[i].slot = static_cast<size_t>(first_slot + i);
    start_call(&calls[i]);
  }
  int in_flight = slots;
  void* tag = nullptr;
  bool ok = false;
  while (in_flight > 0 && queue.Next(&tag, &ok)) {
    auto* call = static_cast<AsyncCall*>(tag);
    const auto end = std::chrono::steady_clock::now();
    worker->Count(call->status, call->start, end, measure_from);
    if (end < stop_at) {
      start_call(call);
    } else {
      --in_flight;
    }
  }
  queue.Shutdown();
  while (queue.Next(&tag, &ok)) {
  }
}

}  // namespace

int ClientThreads(const LoadGeneratorOptions& options) {
  return options.api == "sync" ? options.concurrency
                               : std::min(options.client_threads, options.concurrency);
}

std::string CheckLoadOptions(const LoadGeneratorOptions& options) {
  if (options.rpc != "rank" && options.rpc != "empty") return "--rpc must be rank or empty";
  if (options.api != "async" && options.api != "sync") return "--client_api must be async or sync";
  if (options.concurrency < 1) return "--concurrency must be at least 1";
  if (options.api == "async" && options.client_threads < 1) {
    return "--client_threads must be at least 1";
  }
  return "";
}

LoadResult RunLoad(const LoadGeneratorOptions& options,
                   const std::function<void(const IntervalReport&)>& on_interval) {
  absl::StatusOr<std::shared_ptr<grpc::ChannelCredentials>> credentials =
      MakeChannelCredentials(options.tls);
  if (!credentials.ok()) {  // the caller checks the TLS files first; report rather than crash
    LoadResult failed;
    failed.errors[std::string(credentials.status().message())] = 1;
    return failed;
  }
  absl::StatusOr<std::string> service_config = ServiceConfigJson(options.balancing);
  if (!service_config.ok()) {
    LoadResult failed;
    failed.errors[std::string(service_config.status().message())] = 1;
    return failed;
  }
  std::vector<std::shared_ptr<grpc::Channel>> channels;
  for (int c = 0; c < std::max(1, options.channels); ++c) {
    grpc::ChannelArguments args;
    args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);  // a separate connection per channel
    args.SetInt("ranker.channel_index", c);
    channels.push_back(
        OpenChannel(options.target, *credentials, options.tls, *service_config, std::move(args)));
  }
  const auto begin = std::chrono::steady_clock::now();
  const auto measure_from = begin + absl::ToChronoNanoseconds(options.warmup);
  const auto stop_at = measure_from + absl::ToChronoNanoseconds(options.duration);

  std::vector<std::unique_ptr<Worker>> workers;
  std::vector<std::thread> threads;
  if (options.api == "sync") {
    for (int w = 0; w < options.concurrency; ++w) {
      workers.push_back(std::make_unique<Worker>());
      threads.emplace_back(RunWorker, std::cref(options), channels[w % channels.size()],
                           options.seed * 1000 + w, measure_from, stop_at, workers.back().get());
    }
  } else {
    // The calls in flight, spread over the threads as evenly as they go.
    const int thread_count = ClientThreads(options);
    int first_slot = 0;
    for (int t = 0; t < thread_count; ++t) {
      const int slots =
          options.concurrency / thread_count + (t < options.concurrency % thread_count);
      workers.push_back(std::make_unique<Worker>());
      threads.emplace_back(RunAsyncWorker, std::cref(options), std::cref(channels), first_slot,
                           slots, options.seed * 1000 + t, measure_from, stop_at,
                           workers.back().get());
      first_slot += slots;
    }
  }

  LoadResult result;
  const auto read_all = [&](uint64_t* errors) {
    LatencyHistogram::Counts sum;
    *errors = 0;
    for (const auto& worker : workers) {
      sum.Add(worker->latency.Read());
      for (const auto& e : worker->errors) *errors += e.load(std::memory_order_relaxed);
    }
    return sum;
  };
  if (options.report_interval > absl::ZeroDuration()) {
    std::this_thread::sleep_until(measure_from);
    LatencyHistogram::Counts previous;
    uint64_t previous_errors = 0;
    auto tick = measure_from;
    while (tick < stop_at) {
      const auto window_start = tick;
      tick = std::min(stop_at, tick + absl::ToChronoNanoseconds(options.report_interval));
      std::this_thread::sleep_until(tick);
      uint64_t errors = 0;
      LatencyHistogram::Counts now = read_all(&errors);
      LatencyHistogram::Counts window = now.Minus(previous);
      // The last window ends at stop_at and may be shorter than report_interval.
      const double window_seconds = std::chrono::duration<double>(tick - window_start).count();
      IntervalReport report{std::chrono::duration<double>(tick - measure_from).count(),
                            static_cast<double>(window.total) / window_seconds,
                            errors - previous_errors,
                            window.Quantile(0.5),
                            window.Quantile(0.99),
                            window.Quantile(1.0)};
      result.intervals.push_back(report);
      if (on_interval) on_interval(report);
      previous = std::move(now);
      previous_errors = errors;
    }
  }
  for (auto& thread : threads) thread.join();

  result.seconds = absl::ToDoubleSeconds(options.duration);
  for (const auto& worker : workers) {
    result.latency.Add(worker->latency.Read());
    for (int c = 0; c < kCodes; ++c) {
      const uint64_t n = worker->errors[c].load();
      if (n > 0) result.errors[StatusCodeName(static_cast<grpc::StatusCode>(c))] += n;
    }
  }
  result.calls = result.latency.total;
  result.qps = static_cast<double>(result.calls) / result.seconds;
  return result;
}

}  // namespace ranker
