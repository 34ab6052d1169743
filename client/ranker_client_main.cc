// ranker-client: call a ranker-server from the command line (people and scripts).
#include <google/protobuf/util/json_util.h>
#include <grpcpp/grpcpp.h>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/time/time.h"
#include "client/channel.h"
#include "client/load_generator.h"
#include "common/command_line.h"
#include "proto/grpc_health.grpc.pb.h"
#include "common/grpc_status_names.h"
#include "proto/ranker.grpc.pb.h"

ABSL_FLAG(std::string, target, "localhost:50051", "Server address, HOST:PORT.");
ABSL_FLAG(uint64_t, user, 0, "rank: user id.");
ABSL_FLAG(uint32_t, k, 10, "rank: number of items to return.");
ABSL_FLAG(std::string, candidates, "",
          "rank: comma-separated candidate item ids; empty ranks the whole catalogue.");
ABSL_FLAG(uint64_t, model_version, 0, "rank, info: pin a loaded model version (0 = current).");
ABSL_FLAG(absl::Duration, timeout, absl::Seconds(10), "Deadline for each call.");
ABSL_FLAG(bool, json, false, "Print the response as JSON.");
ABSL_FLAG(uint32_t, repeat, 1,
          "rank: send the request this many times on one connection and print latency "
          "percentiles (the first call, which opens the connection, is reported apart).");
ABSL_FLAG(int, concurrency, 8, "bench: calls in flight at all times (closed loop).");
ABSL_FLAG(absl::Duration, duration, absl::Seconds(10), "bench: how long to measure.");
ABSL_FLAG(absl::Duration, warmup, absl::Seconds(1), "bench: calls before measuring starts.");
ABSL_FLAG(int, candidates_per_request, 100,
          "bench: random candidates per Rank (0 = rank the whole catalogue).");
ABSL_FLAG(uint64_t, users, 0, "bench: user ids drawn from [0, users) (0 = the model's n).");
ABSL_FLAG(uint64_t, items, 0, "bench: candidate ids drawn from [0, items) (0 = the model's n).");
ABSL_FLAG(std::string, rpc, "rank", "bench: rank, or empty (the health check, the floor).");
ABSL_FLAG(int, channels, 2, "bench: gRPC connections to spread the calls over.");
ABSL_FLAG(bool, progress, true, "bench: print a line per second to stderr.");
ABSL_FLAG(std::string, service, "",
          "health: service name to check (empty = the server as a whole).");
ABSL_FLAG(std::string, admin_target, "localhost:50052",
          "reload, versions: the server's admin address, HOST:PORT.");
ABSL_FLAG(std::string, admin_token_file, "",
          "reload, versions: file with the admin token (needed only from another host).");
ABSL_FLAG(std::string, tls_ca, "",
          "PEM file of the CA that signed the server's certificate; enables TLS.");
ABSL_FLAG(std::string, tls_cert, "",
          "PEM client certificate, for servers that require mutual TLS.");
ABSL_FLAG(std::string, tls_key, "", "PEM private key of --tls_cert.");
ABSL_FLAG(std::string, tls_server_name, "",
          "Name to expect in the server's certificate (default: the host of the target).");

namespace ranker {
namespace {

constexpr char kUsage[] = R"(ranker-client: talk to a ranker-server.

Usage: ranker-client COMMAND [--target HOST:PORT] [flags]

Commands:
  rank     top-k items for a user:  rank --user 42 --k 10 [--candidates 1,2,3]
  bench    closed-loop load: bench --concurrency 8 --duration 10s --candidates_per_request 100
           [--rpc rank|empty] [--json]; prints QPS, latency percentiles, errors by code
  info     the served model: version, tables (kind, n, m, d), bytes, compression
  health   the standard gRPC health check; exit code 0 only when SERVING
  reload   ask the server to load the newest version in its store now (admin service)
  versions the loaded versions, their memory and which one serves (admin service)

TLS: --tls_ca CA.pem [--tls_cert client.pem --tls_key client.key] [--tls_server_name NAME].

Exit code: 0 on success, 1 on an RPC error (its gRPC status is printed), 2 on bad usage.)";

ClientTlsFiles TlsFlags() {
  return ClientTlsFiles{absl::GetFlag(FLAGS_tls_ca), absl::GetFlag(FLAGS_tls_cert),
                        absl::GetFlag(FLAGS_tls_key), absl::GetFlag(FLAGS_tls_server_name)};
}

// The TLS flags are checked once in Run(), so opening a channel cannot fail here.
std::shared_ptr<grpc::Channel> Connect(const std::string& target = absl::GetFlag(FLAGS_target)) {
  return *OpenChannel(target, TlsFlags());
}

void SetDeadline(grpc::ClientContext* context) {
  context->set_deadline(std::chrono::system_clock::now() +
                        absl::ToChronoMilliseconds(absl::GetFlag(FLAGS_timeout)));
}

int Fail(const grpc::Status& status) {
  std::fprintf(stderr, "ranker-client: RPC failed: %d (%s): %s\n",
               static_cast<int>(status.error_code()), StatusCodeName(status.error_code()),
               status.error_message().c_str());
  return 1;
}

int PrintJson(const google::protobuf::Message& message) {
  std::string json;
  google::protobuf::util::JsonPrintOptions options;
  options.add_whitespace = true;
  options.always_print_primitive_fields = true;
  options.preserve_proto_field_names = true;
  if (!google::protobuf::util::MessageToJsonString(message, &json, options).ok()) return 1;
  std::printf("%s", json.c_str());
  return 0;
}

std::string Bytes(uint64_t bytes) {
  if (bytes < 1024) return absl::StrCat(bytes, " B");
  const char* units[] = {"KiB", "MiB", "GiB", "TiB"};
  double value = static_cast<double>(bytes) / 1024;
  int unit = 0;
  while (value >= 1024 && unit < 3) {
    value /= 1024;
    ++unit;
  }
  char buffer[32];
  std::snprintf(buffer, sizeof(buffer), "%.1f %s", value, units[unit]);
  return buffer;
}

int Rank() {
  v1::RankRequest request;
  request.set_user_id(absl::GetFlag(FLAGS_user));
  request.set_k(absl::GetFlag(FLAGS_k));
  request.set_model_version(absl::GetFlag(FLAGS_model_version));
  for (absl::string_view part :
       absl::StrSplit(absl::GetFlag(FLAGS_candidates), ',', absl::SkipWhitespace())) {
    uint64_t id = 0;
    if (!absl::SimpleAtoi(part, &id)) {
      std::fprintf(stderr, "ranker-client: --candidates: '%s' is not an id\n",
                   std::string(part).c_str());
      return 2;
    }
    request.add_candidate_ids(id);
  }
  auto stub = v1::Ranker::NewStub(Connect());
  grpc::ClientContext context;
  SetDeadline(&context);
  v1::RankResponse response;
  auto start = std::chrono::steady_clock::now();
  grpc::Status status = stub->Rank(&context, request, &response);
  double ms =
      std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
  if (!status.ok()) return Fail(status);
  const uint32_t repeat = absl::GetFlag(FLAGS_repeat);
  if (repeat > 1) {
    const double first_ms = ms;
    std::vector<double> latencies;
    for (uint32_t i = 1; i < repeat; ++i) {
      grpc::ClientContext again;
      SetDeadline(&again);
      start = std::chrono::steady_clock::now();
      status = stub->Rank(&again, request, &response);
      latencies.push_back(
          std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start)
              .count());
      if (!status.ok()) return Fail(status);
    }
    std::sort(latencies.begin(), latencies.end());
    const auto at = [&](double q) {
      return latencies[std::min(latencies.size() - 1,
                                static_cast<size_t>(q * static_cast<double>(latencies.size())))];
    };
    std::printf(
        "%u calls: first (with connect) %.3f ms; then min %.3f, p50 %.3f, p90 %.3f, "
        "p99 %.3f, max %.3f ms\n",
        repeat, first_ms, latencies.front(), at(0.5), at(0.9), at(0.99), latencies.back());
    ms = at(0.5);
  }
  if (absl::GetFlag(FLAGS_json)) return PrintJson(response);
  std::printf("user %lu: top %d of %s, model version %lu, %.2f ms%s\n", request.user_id(),
              response.items_size(),
              request.candidate_ids().empty()
                  ? "the catalogue"
                  : absl::StrCat(request.candidate_ids_size(), " candidates").c_str(),
              response.model_version(), ms,
              response.unknown_ids() > 0
                  ? absl::StrCat(", ", response.unknown_ids(), " unknown ids (fallback)").c_str()
                  : "");
  std::printf("%5s %20s %14s\n", "RANK", "ITEM", "SCORE");
  int rank = 0;
  for (const v1::ScoredItem& item : response.items()) {
    std::printf("%5d %20lu %14.6f\n", ++rank, item.item_id(), item.score());
  }
  return 0;
}

int Info() {
  auto stub = v1::Ranker::NewStub(Connect());
  grpc::ClientContext context;
  SetDeadline(&context);
  v1::GetModelInfoRequest request;
  request.set_model_version(absl::GetFlag(FLAGS_model_version));
  v1::ModelInfo info;
  grpc::Status status = stub->GetModelInfo(&context, request, &info);
  if (!status.ok()) return Fail(status);
  if (absl::GetFlag(FLAGS_json)) return PrintJson(info);
  std::printf(
      "model version %lu (created %s, loaded in %.3f s)\n", info.version(),
      absl::FormatTime("%Y-%m-%dT%H:%M:%SZ", absl::FromUnixSeconds(info.created_unix_seconds()),
                       absl::UTCTimeZone())
          .c_str(),
      info.load_seconds());
  std::printf("%-6s %-7s %12s %12s %5s %-10s %12s %12s %8s\n", "TABLE", "KIND", "N", "M", "D",
              "HASH", "RESIDENT", "FULL-FP32", "RATIO");
  for (const v1::TableInfo& t : info.tables()) {
    std::printf("%-6s %-7s %12lu %12lu %5u %-10s %12s %12s %7.2fx\n", t.feature().c_str(),
                t.kind().c_str(), t.n(), t.m(), t.d(), t.hash().c_str(),
                Bytes(t.resident_bytes()).c_str(), Bytes(t.uncompressed_bytes()).c_str(),
                t.parameters() ? static_cast<double>(t.n() * t.d()) / t.parameters() : 0.0);
  }
  std::printf("scorer: MLP %s, dot-product weight %g\n",
              absl::StrJoin(info.mlp_widths(), "-").c_str(), info.dot_weight());
  std::printf("resident bytes:                %s (%lu)\n", Bytes(info.resident_bytes()).c_str(),
              info.resident_bytes());
  std::printf("uncompressed-equivalent bytes: %s (%lu)\n", Bytes(info.uncompressed_bytes()).c_str(),
              info.uncompressed_bytes());
  std::printf("embedding compression ratio:   %.2fx (memory ratio %.2fx)\n",
              info.compression_ratio(),
              info.resident_bytes() ? static_cast<double>(info.uncompressed_bytes()) /
                                          static_cast<double>(info.resident_bytes())
                                    : 0.0);
  std::vector<std::string> keys;
  for (const auto& entry : info.producer()) keys.push_back(entry.first);
  std::sort(keys.begin(), keys.end());
  for (const std::string& key : keys) {
    std::printf("producer.%s: %s\n", key.c_str(), info.producer().at(key).c_str());
  }
  return 0;
}

int Health() {
  auto stub = grpc::health::v1::Health::NewStub(Connect());
  grpc::ClientContext context;
  SetDeadline(&context);
  grpc::health::v1::HealthCheckRequest request;
  request.set_service(absl::GetFlag(FLAGS_service));
  grpc::health::v1::HealthCheckResponse response;
  grpc::Status status = stub->Check(&context, request, &response);
  if (!status.ok()) return Fail(status);
  if (absl::GetFlag(FLAGS_json)) {
    PrintJson(response);
  } else {
    std::printf(
        "%s\n",
        grpc::health::v1::HealthCheckResponse::ServingStatus_Name(response.status()).c_str());
  }
  return response.status() == grpc::health::v1::HealthCheckResponse::SERVING ? 0 : 1;
}

int Bench() {
  LoadOptions options;
  options.target = absl::GetFlag(FLAGS_target);
  options.tls = TlsFlags();
  options.rpc = absl::GetFlag(FLAGS_rpc);
  if (options.rpc != "rank" && options.rpc != "empty") {
    std::fprintf(stderr, "ranker-client: --rpc must be rank or empty\n");
    return 2;
  }
  options.concurrency = std::max(1, absl::GetFlag(FLAGS_concurrency));
  options.duration = absl::GetFlag(FLAGS_duration);
  options.warmup = absl::GetFlag(FLAGS_warmup);
  options.candidates = std::max(0, absl::GetFlag(FLAGS_candidates_per_request));
  options.k = absl::GetFlag(FLAGS_k);
  options.channels = absl::GetFlag(FLAGS_channels);
  options.deadline = absl::GetFlag(FLAGS_timeout);
  options.users = absl::GetFlag(FLAGS_users);
  options.items = absl::GetFlag(FLAGS_items);
  if (options.rpc == "rank" && (options.users == 0 || options.items == 0)) {
    auto stub = v1::Ranker::NewStub(Connect());
    grpc::ClientContext context;
    SetDeadline(&context);
    v1::ModelInfo info;
    grpc::Status status = stub->GetModelInfo(&context, v1::GetModelInfoRequest(), &info);
    if (!status.ok()) return Fail(status);
    for (const v1::TableInfo& t : info.tables()) {
      if (t.feature() == "user" && options.users == 0) options.users = t.n();
      if (t.feature() == "item" && options.items == 0) options.items = t.n();
    }
  }
  const bool json = absl::GetFlag(FLAGS_json);
  if (!absl::GetFlag(FLAGS_progress)) options.report_interval = absl::ZeroDuration();
  std::fprintf(stderr, "bench: %s, concurrency %d, %s (+%s warm-up), %s, k=%u\n",
               options.rpc.c_str(), options.concurrency,
               absl::FormatDuration(options.duration).c_str(),
               absl::FormatDuration(options.warmup).c_str(),
               options.rpc == "empty"    ? "health check"
               : options.candidates == 0 ? "whole catalogue"
                                         : absl::StrCat(options.candidates, " candidates").c_str(),
               options.k);
  LoadResult result = RunLoad(options, [](const IntervalReport& r) {
    std::fprintf(
        stderr, "  %6.1fs  %9.0f calls/s  p50 %8.1f us  p99 %8.1f us  max %8.1f us  errors %lu\n",
        r.elapsed_seconds, r.qps, r.p50_ns / 1e3, r.p99_ns / 1e3, r.max_ns / 1e3, r.errors);
  });
  const auto us = [&](double q) { return result.latency.Quantile(q) / 1e3; };
  uint64_t errors = 0;
  for (const auto& [code, n] : result.errors) errors += n;
  if (json) {
    std::string error_json;
    for (const auto& [code, n] : result.errors) {
      absl::StrAppend(&error_json, error_json.empty() ? "" : ", ", "\"", code, "\": ", n);
    }
    std::printf(
        "{\"rpc\": \"%s\", \"concurrency\": %d, \"candidates\": %d, \"k\": %u, "
        "\"seconds\": %.3f, \"calls\": %lu, \"qps\": %.1f, \"latency_us\": {\"p50\": %.1f, "
        "\"p90\": %.1f, \"p99\": %.1f, \"p999\": %.1f, \"max\": %.1f}, \"errors\": {%s}}\n",
        options.rpc.c_str(), options.concurrency, options.candidates, options.k, result.seconds,
        result.calls, result.qps, us(0.5), us(0.9), us(0.99), us(0.999), us(1.0),
        error_json.c_str());
  } else {
    std::printf("%lu calls in %.1f s: %.0f calls/s\n", result.calls, result.seconds, result.qps);
    std::printf("latency us: p50 %.1f  p90 %.1f  p99 %.1f  p99.9 %.1f  max %.1f\n", us(0.5),
                us(0.9), us(0.99), us(0.999), us(1.0));
    std::printf("errors: %lu", errors);
    for (const auto& [code, n] : result.errors) std::printf("  %s=%lu", code.c_str(), n);
    std::printf("\n");
  }
  return errors == 0 ? 0 : 1;
}

// Adds the admin token, when one is configured, to an admin call.
bool AuthorizeAdmin(grpc::ClientContext* context) {
  const std::string path = absl::GetFlag(FLAGS_admin_token_file);
  if (path.empty()) return true;
  std::ifstream file(path);
  std::string token;
  if (!file || !std::getline(file, token) || absl::StripAsciiWhitespace(token).empty()) {
    std::fprintf(stderr, "ranker-client: cannot read a token from %s\n", path.c_str());
    return false;
  }
  context->AddMetadata("authorization", absl::StrCat("Bearer ", absl::StripAsciiWhitespace(token)));
  return true;
}

int Reload() {
  auto stub = v1::RankerAdmin::NewStub(Connect(absl::GetFlag(FLAGS_admin_target)));
  grpc::ClientContext context;
  SetDeadline(&context);
  if (!AuthorizeAdmin(&context)) return 2;
  v1::ReloadResponse response;
  grpc::Status status = stub->Reload(&context, v1::ReloadRequest(), &response);
  if (!status.ok()) return Fail(status);
  if (absl::GetFlag(FLAGS_json)) return PrintJson(response);
  std::printf("%s; serving version %lu\n", response.message().c_str(), response.serving_version());
  return 0;
}

int Versions() {
  auto stub = v1::RankerAdmin::NewStub(Connect(absl::GetFlag(FLAGS_admin_target)));
  grpc::ClientContext context;
  SetDeadline(&context);
  if (!AuthorizeAdmin(&context)) return 2;
  v1::ListLoadedVersionsResponse response;
  grpc::Status status =
      stub->ListLoadedVersions(&context, v1::ListLoadedVersionsRequest(), &response);
  if (!status.ok()) return Fail(status);
  if (absl::GetFlag(FLAGS_json)) return PrintJson(response);
  std::printf("%10s %20s %12s %s\n", "VERSION", "LOADED", "RESIDENT", "");
  for (const v1::LoadedVersion& v : response.versions()) {
    std::printf(
        "%10lu %20s %12s %s\n", v.version(),
        absl::FormatTime("%Y-%m-%dT%H:%M:%SZ", absl::FromUnixSeconds(v.loaded_unix_seconds()),
                         absl::UTCTimeZone())
            .c_str(),
        Bytes(v.resident_bytes()).c_str(), v.current() ? "serving" : "");
  }
  return 0;
}

int Run(const std::vector<char*>& args) {
  if (args.size() != 2) {
    std::fprintf(stderr,
                 "ranker-client: give exactly one command: rank, info, health, bench, reload or "
                 "versions (see --help)\n");
    return 2;
  }
  if (absl::Status tls = MakeChannelCredentials(TlsFlags()).status(); !tls.ok()) {
    std::fprintf(stderr, "ranker-client: %s\n", std::string(tls.message()).c_str());
    return 2;
  }
  const std::string command = args[1];
  if (command == "rank") return Rank();
  if (command == "info") return Info();
  if (command == "health") return Health();
  if (command == "bench") return Bench();
  if (command == "reload") return Reload();
  if (command == "versions") return Versions();
  std::fprintf(stderr, "ranker-client: unknown command '%s' (see --help)\n", command.c_str());
  return 2;
}

}  // namespace
}  // namespace ranker

int main(int argc, char** argv) {
  return ranker::Run(ranker::ParseToolCommandLine(argc, argv, ranker::kUsage, "client/"));
}
