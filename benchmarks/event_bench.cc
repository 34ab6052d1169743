// Event-log throughput on this machine (docs/performance.md, benchmarks/events.sh):
//   apply   publish --messages messages of --items_per_message items for --users users to the
//           stream at --nats, then time one replica's StreamApplier applying all of them into a
//           fresh history database (what a new replica's replay costs), and the database alone
//           (ApplyEvents without a broker) for comparison.
//   record  Record calls against --target from --threads threads for --duration, each call
//           --items_per_message interactions for random users; --rate caps interactions/s
//           (0 = as fast as they are acknowledged). With --probe_target, every 50 ms one
//           probe records for a fresh user on --target and polls Rank on --probe_target until
//           the user's stored history is used: event-to-visible percentiles.
//   publish straight to the stream at --nats, as a backend may (docs/scale-out.md), for
//           --duration: --rate interactions/s in messages of --items_per_message items for
//           random users, a batch every 10 ms with one wait for its acks; --stream and
//           --subject_prefix pick the stream (the fleet's by default). With --probe_target, the
//           same event-to-visible probe, its message published here.
#include <grpcpp/grpcpp.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <filesystem>
#include <random>
#include <thread>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "events/jetstream.h"
#include "events/stream_applier.h"
#include "model_store/history_store.h"
#include "proto/ranker.grpc.pb.h"

ABSL_FLAG(std::string, nats, "nats://127.0.0.1:4222", "apply: the broker.");
ABSL_FLAG(uint64_t, messages, 200000, "apply: messages to publish and apply.");
ABSL_FLAG(uint32_t, items_per_message, 5, "Interactions per message (apply) or per call (record).");
ABSL_FLAG(uint64_t, users, 100000, "Users the events are spread over.");
ABSL_FLAG(std::string, target, "127.0.0.1:50051", "record: the server.");
ABSL_FLAG(std::string, probe_target, "", "record: the server to poll for event-to-visible.");
ABSL_FLAG(int, threads, 8, "Publishing or recording threads.");
ABSL_FLAG(absl::Duration, duration, absl::Seconds(10), "record: how long.");
ABSL_FLAG(double, rate, 0,
          "record, publish: interactions per second at most (0 = no cap; publish needs one).");
ABSL_FLAG(std::string, stream, "RANKER_EVENTS", "publish: the stream (the fleet's by default).");
ABSL_FLAG(std::string, subject_prefix, "ranker.events", "publish: the stream's subject prefix.");

namespace ranker {
namespace {

double Percentile(std::vector<double> values, double q) {
  if (values.empty()) return 0;
  std::sort(values.begin(), values.end());
  return values[std::min(values.size() - 1, static_cast<size_t>(q * values.size()))];
}

int Apply() {
  JetStreamOptions options;
  options.url = absl::GetFlag(FLAGS_nats);
  options.stream = "RANKER_EVENTS_BENCH";
  options.subject_prefix = "ranker.bench";
  options.max_msgs_per_subject = 1000;
  auto connection = JetStreamConnection::Connect(options);
  if (!connection.ok() || !(*connection)->EnsureStream().ok()) {
    std::fprintf(stderr, "event_bench: no JetStream at %s\n", options.url.c_str());
    return 1;
  }
  const uint64_t messages = absl::GetFlag(FLAGS_messages);
  const uint32_t items = absl::GetFlag(FLAGS_items_per_message);
  const uint64_t users = absl::GetFlag(FLAGS_users);
  const int threads = absl::GetFlag(FLAGS_threads);
  std::atomic<uint64_t> next{0}, last_sequence{0}, failures{0};
  absl::Time start = absl::Now();
  std::vector<std::thread> publishers;
  for (int t = 0; t < threads; ++t) {
    publishers.emplace_back([&] {
      // Batches of 256 in flight: the broker's rate, not one round trip per message.
      constexpr uint64_t kBatch = 256;
      std::vector<JetStreamConnection::OutgoingMessage> batch;
      for (uint64_t first; (first = next.fetch_add(kBatch)) < messages;) {
        batch.clear();
        for (uint64_t m = first; m < std::min(first + kBatch, messages); ++m) {
          v1::UserInteractions message;
          message.set_user_id(m % users);
          for (uint32_t i = 0; i < items; ++i) {
            message.add_item_ids((m * 7919 + i) % 50000);
            message.add_timestamps_ms(1'700'000'000'000);
          }
          JetStreamConnection::OutgoingMessage& outgoing = batch.emplace_back();
          outgoing.subject = (*connection)->SubjectOf(m % users);
          message.SerializeToString(&outgoing.data);
        }
        auto acks = (*connection)->PublishBatch(batch);
        if (!acks.ok()) {
          failures += batch.size();
          continue;
        }
        uint64_t seen = last_sequence.load();
        for (const JetStreamConnection::Ack& ack : *acks) {
          while (ack.sequence > seen && !last_sequence.compare_exchange_weak(seen, ack.sequence)) {
          }
        }
      }
    });
  }
  for (std::thread& t : publishers) t.join();
  const double publish_seconds = absl::ToDoubleSeconds(absl::Now() - start);
  std::printf("published %lu messages (%u items each) in %.2f s: %.0f messages/s, %lu failed\n",
              messages, items, publish_seconds, messages / publish_seconds, failures.load());

  const std::string dir = absl::StrCat("/tmp/ranker-event-bench-", getpid());
  StoreOptions store_options;
  store_options.create_if_missing = true;
  auto store = HistoryStore::OpenWriter(dir + "/replica", store_options);
  if (!store.ok()) return 1;
  NullEventObserver observer;
  StreamApplier applier(
      connection->get(), store->get(), [] { return nullptr; }, &observer,
      StreamApplierOptions{.history_cap = 200});
  start = absl::Now();
  if (!applier.Start().ok()) return 1;
  applier.WaitApplied(last_sequence.load(), absl::Minutes(10));
  const double apply_seconds = absl::ToDoubleSeconds(absl::Now() - start);
  applier.Stop();
  std::printf(
      "one replica applied the stream (%lu messages, %lu events) in %.2f s: %.0f messages/s, "
      "%.0f events/s\n",
      last_sequence.load(), last_sequence.load() * items, apply_seconds,
      last_sequence.load() / apply_seconds, last_sequence.load() * items / apply_seconds);

  // The database alone: the same events in batches of 4,096 messages, no broker.
  auto alone = HistoryStore::OpenWriter(dir + "/alone", store_options);
  if (!alone.ok()) return 1;
  start = absl::Now();
  EventBatch batch;
  for (uint64_t m = 0; m < messages; ++m) {
    UserHistory user{m % users, {}};
    for (uint32_t i = 0; i < items; ++i) user.items.push_back((m * 7919 + i) % 50000);
    batch.users.push_back(std::move(user));
    if (batch.users.size() == 4096 || m + 1 == messages) {
      batch.log_sequence = m + 1;
      if (!(*alone)->ApplyEvents(batch, 200).ok()) return 1;
      batch.users.clear();
    }
  }
  const double alone_seconds = absl::ToDoubleSeconds(absl::Now() - start);
  std::printf("the history database alone: %.2f s, %.0f events/s\n", alone_seconds,
              messages * items / alone_seconds);
  store->reset();
  alone->reset();
  std::filesystem::remove_all(dir);
  return 0;
}

// Polls Rank on `ranker` for `user` every millisecond until its stored history is used (true)
// or 5 s pass. A cheap Rank (three candidates): the probe must not be the load it measures.
bool WaitVisible(v1::Ranker::Stub* ranker, uint64_t user, absl::Time sent) {
  while (absl::Now() < sent + absl::Seconds(5)) {
    grpc::ClientContext rank_context;
    v1::RankRequest rank;
    rank.set_user_id(user);
    rank.set_k(1);
    for (uint64_t candidate : {1, 2, 3}) rank.add_candidate_ids(candidate);
    v1::RankResponse ranked;
    if (ranker->Rank(&rank_context, rank, &ranked).ok() &&
        ranked.history_source() == v1::HISTORY_SOURCE_STORED) {
      return true;
    }
    absl::SleepFor(absl::Milliseconds(1));
  }
  return false;
}

int Record() {
  const std::string target = absl::GetFlag(FLAGS_target);
  const std::string probe_target = absl::GetFlag(FLAGS_probe_target);
  const uint32_t items = absl::GetFlag(FLAGS_items_per_message);
  const uint64_t users = absl::GetFlag(FLAGS_users);
  const int threads = absl::GetFlag(FLAGS_threads);
  const double rate = absl::GetFlag(FLAGS_rate);
  const absl::Time end = absl::Now() + absl::GetFlag(FLAGS_duration);
  std::atomic<uint64_t> calls{0}, failures{0};
  std::vector<std::thread> workers;
  const absl::Time start = absl::Now();
  for (int t = 0; t < threads; ++t) {
    workers.emplace_back([&, t] {
      auto stub =
          v1::Events::NewStub(grpc::CreateChannel(target, grpc::InsecureChannelCredentials()));
      std::mt19937_64 rng(t);
      for (uint64_t n = 0; absl::Now() < end; ++n) {
        if (rate > 0) {
          // Each thread paces itself to its share of the rate.
          const absl::Time due = start + absl::Seconds(n * items * threads / rate);
          if (due > absl::Now()) absl::SleepFor(due - absl::Now());
        }
        v1::RecordRequest request;
        request.set_request_id(absl::StrCat("bench-", getpid(), "-", t, "-", n));
        for (uint32_t i = 0; i < items; ++i) {
          v1::Interaction* interaction = request.add_interactions();
          interaction->set_user_id(rng() % users);
          interaction->set_item_id(rng() % 1000);
        }
        grpc::ClientContext context;
        v1::RecordResponse response;
        if (stub->Record(&context, request, &response).ok()) {
          ++calls;
        } else {
          ++failures;
        }
      }
    });
  }
  std::vector<double> visible_ms;
  if (!probe_target.empty()) {
    auto recorder =
        v1::Events::NewStub(grpc::CreateChannel(target, grpc::InsecureChannelCredentials()));
    auto ranker =
        v1::Ranker::NewStub(grpc::CreateChannel(probe_target, grpc::InsecureChannelCredentials()));
    for (uint64_t k = 0; absl::Now() < end; ++k) {
      const uint64_t user = (uint64_t{1} << 40) + getpid() * 100000 + k;
      v1::RecordRequest request;
      request.add_interactions()->set_user_id(user);
      request.mutable_interactions(0)->set_item_id(1);
      const absl::Time sent = absl::Now();
      grpc::ClientContext context;
      v1::RecordResponse response;
      if (!recorder->Record(&context, request, &response).ok()) continue;
      if (WaitVisible(ranker.get(), user, sent)) {
        visible_ms.push_back(absl::ToDoubleMilliseconds(absl::Now() - sent));
      }
      absl::SleepFor(absl::Milliseconds(50));
    }
  }
  for (std::thread& t : workers) t.join();
  const double seconds = absl::ToDoubleSeconds(absl::Now() - start);
  std::printf("record: %.0f calls/s, %.0f events/s (%u per call, %d threads), %lu failed\n",
              calls / seconds, calls * items / seconds, items, threads, failures.load());
  if (!visible_ms.empty()) {
    std::printf("event-to-visible over %zu probes: p50 %.1f ms, p99 %.1f ms, max %.1f ms\n",
                visible_ms.size(), Percentile(visible_ms, 0.5), Percentile(visible_ms, 0.99),
                Percentile(visible_ms, 1.0));
  }
  return failures.load() == 0 ? 0 : 1;
}

int Publish() {
  JetStreamOptions options;
  options.url = absl::GetFlag(FLAGS_nats);
  options.stream = absl::GetFlag(FLAGS_stream);
  options.subject_prefix = absl::GetFlag(FLAGS_subject_prefix);
  auto connection = JetStreamConnection::Connect(options);
  if (!connection.ok() || !(*connection)->EnsureStream().ok()) {
    std::fprintf(stderr, "event_bench: no JetStream at %s\n", options.url.c_str());
    return 1;
  }
  const double rate = absl::GetFlag(FLAGS_rate);
  if (rate <= 0) {
    std::fprintf(stderr, "event_bench publish: --rate must be positive\n");
    return 2;
  }
  const uint32_t items = std::max<uint32_t>(1, absl::GetFlag(FLAGS_items_per_message));
  const uint64_t users = absl::GetFlag(FLAGS_users);
  const absl::Duration duration = absl::GetFlag(FLAGS_duration);
  const std::string probe_target = absl::GetFlag(FLAGS_probe_target);
  std::atomic<uint64_t> published{0}, failures{0};
  const absl::Time start = absl::Now(), end = start + duration;
  std::thread publisher([&] {
    constexpr absl::Duration kTick = absl::Milliseconds(10);
    std::mt19937_64 rng(getpid());
    std::vector<JetStreamConnection::OutgoingMessage> batch;
    double owed = 0;  // messages due and not yet sent
    for (absl::Time tick = start; tick < end; tick += kTick) {
      if (tick > absl::Now()) absl::SleepFor(tick - absl::Now());
      owed += rate / items * absl::ToDoubleSeconds(kTick);
      batch.clear();
      for (; owed >= 1; owed -= 1) {
        v1::UserInteractions message;
        const uint64_t user = rng() % users;
        message.set_user_id(user);
        for (uint32_t i = 0; i < items; ++i) {
          message.add_item_ids(rng() % 1000);
          message.add_timestamps_ms(absl::ToUnixMillis(absl::Now()));
        }
        JetStreamConnection::OutgoingMessage& outgoing = batch.emplace_back();
        outgoing.subject = (*connection)->SubjectOf(user);
        message.SerializeToString(&outgoing.data);
      }
      if (batch.empty()) continue;
      if ((*connection)->PublishBatch(batch).ok()) {
        published += batch.size();
      } else {
        failures += batch.size();
      }
    }
  });
  std::vector<double> visible_ms;
  if (!probe_target.empty()) {
    auto ranker =
        v1::Ranker::NewStub(grpc::CreateChannel(probe_target, grpc::InsecureChannelCredentials()));
    for (uint64_t k = 0; absl::Now() < end; ++k) {
      const uint64_t user = (uint64_t{1} << 41) + getpid() * 100000 + k;
      v1::UserInteractions message;
      message.set_user_id(user);
      message.add_item_ids(1);
      message.add_timestamps_ms(absl::ToUnixMillis(absl::Now()));
      JetStreamConnection::OutgoingMessage outgoing;
      outgoing.subject = (*connection)->SubjectOf(user);
      message.SerializeToString(&outgoing.data);
      const absl::Time sent = absl::Now();
      if (!(*connection)->PublishBatch({outgoing}).ok()) continue;
      if (WaitVisible(ranker.get(), user, sent)) {
        visible_ms.push_back(absl::ToDoubleMilliseconds(absl::Now() - sent));
      }
      absl::SleepFor(absl::Milliseconds(50));
    }
  }
  publisher.join();
  const double seconds = absl::ToDoubleSeconds(absl::Now() - start);
  std::printf("publish: %.0f messages/s, %.0f events/s (%u per message) to %s, %lu failed\n",
              published / seconds, published * items / seconds, items, options.stream.c_str(),
              failures.load());
  if (!visible_ms.empty()) {
    std::printf("event-to-visible over %zu probes: p50 %.1f ms, p99 %.1f ms, max %.1f ms\n",
                visible_ms.size(), Percentile(visible_ms, 0.5), Percentile(visible_ms, 0.99),
                Percentile(visible_ms, 1.0));
  }
  return failures.load() == 0 ? 0 : 1;
}

}  // namespace
}  // namespace ranker

int main(int argc, char** argv) {
  absl::SetProgramUsageMessage("event_bench apply|record|publish [flags]");
  std::vector<char*> args = absl::ParseCommandLine(argc, argv);
  const std::string mode = args.size() > 1 ? args[1] : "";
  if (mode == "apply") return ranker::Apply();
  if (mode == "record") return ranker::Record();
  if (mode == "publish") return ranker::Publish();
  std::fprintf(stderr, "usage: event_bench apply|record|publish [flags] (see --help)\n");
  return 2;
}
