// ranker-client bench: the closed-loop load generator with a summary for people or as a
// BenchReport in JSON (proto/bench_report.proto).
#include <algorithm>
#include <cstdio>

#include "absl/strings/str_cat.h"
#include "client/command_output.h"
#include "client/commands.h"
#include "proto/bench_report.pb.h"
#include "proto/ranker.grpc.pb.h"

namespace ranker {
namespace {

// Fills users/items left at 0 from the served model's tables.
int ReadVocabularySizes(const CallOptions& call, LoadGeneratorOptions* load) {
  auto stub = v1::Ranker::NewStub(Connect(call, call.target));
  grpc::ClientContext context;
  SetDeadline(call, &context);
  v1::ModelInfo info;
  grpc::Status status = stub->GetModelInfo(&context, v1::GetModelInfoRequest(), &info);
  if (!status.ok()) return Fail(status);
  for (const v1::TableInfo& t : info.tables()) {
    if (t.feature() == "user" && load->users == 0) load->users = t.n();
    if (t.feature() == "item" && load->items == 0) load->items = t.n();
  }
  return 0;
}

client::BenchReport MakeReport(const LoadGeneratorOptions& load, const LoadResult& result) {
  client::BenchReport report;
  report.set_rpc(load.rpc);
  report.set_concurrency(load.concurrency);
  report.set_client_api(load.api);
  report.set_client_threads(ClientThreads(load));
  report.set_candidates(load.candidates);
  report.set_k(load.k);
  report.set_seconds(result.seconds);
  report.set_calls(static_cast<double>(result.calls));
  report.set_qps(result.qps);
  client::LatencyMicros* latency = report.mutable_latency_us();
  latency->set_p50(result.latency.Quantile(0.5) / 1e3);
  latency->set_p90(result.latency.Quantile(0.9) / 1e3);
  latency->set_p99(result.latency.Quantile(0.99) / 1e3);
  latency->set_p999(result.latency.Quantile(0.999) / 1e3);
  latency->set_max(result.latency.Quantile(1.0) / 1e3);
  for (const auto& [code, n] : result.errors) {
    (*report.mutable_errors())[code] = static_cast<double>(n);
  }
  return report;
}

void PrintReport(const client::BenchReport& report) {
  const client::LatencyMicros& us = report.latency_us();
  std::printf("%.0f calls in %.1f s: %.0f calls/s\n", report.calls(), report.seconds(),
              report.qps());
  std::printf("latency us: p50 %.1f  p90 %.1f  p99 %.1f  p99.9 %.1f  max %.1f\n", us.p50(),
              us.p90(), us.p99(), us.p999(), us.max());
  double errors = 0;
  std::string by_code;
  for (const auto& [code, n] : report.errors()) {
    errors += n;
    absl::StrAppend(&by_code, "  ", code, "=", static_cast<uint64_t>(n));
  }
  std::printf("errors: %.0f%s\n", errors, by_code.c_str());
}

}  // namespace

int RunBench(const CallOptions& call, LoadGeneratorOptions load, bool progress) {
  load.target = call.target;
  load.tls = call.tls;
  load.balancing = call.balancing;
  if (const std::string problem = CheckLoadOptions(load); !problem.empty()) {
    std::fprintf(stderr, "ranker-client: %s\n", problem.c_str());
    return 2;
  }
  if (load.rpc == "rank" && (load.users == 0 || load.items == 0)) {
    if (int code = ReadVocabularySizes(call, &load); code != 0) return code;
  }
  if (!progress) load.report_interval = absl::ZeroDuration();
  std::fprintf(
      stderr, "bench: %s, concurrency %d (%s client, %d threads), %s (+%s warm-up), %s, k=%u\n",
      load.rpc.c_str(), load.concurrency, load.api.c_str(), ClientThreads(load),
      absl::FormatDuration(load.duration).c_str(), absl::FormatDuration(load.warmup).c_str(),
      load.rpc == "empty"    ? "health check"
      : load.candidates == 0 ? "whole catalogue"
                             : absl::StrCat(load.candidates, " candidates").c_str(),
      load.k);
  const LoadResult result = RunLoad(load, [](const IntervalReport& r) {
    std::fprintf(
        stderr, "  %6.1fs  %9.0f calls/s  p50 %8.1f us  p99 %8.1f us  max %8.1f us  errors %lu\n",
        r.elapsed_seconds, r.qps, r.p50_ns / 1e3, r.p99_ns / 1e3, r.max_ns / 1e3, r.errors);
  });
  const client::BenchReport report = MakeReport(load, result);
  if (call.json) {
    if (PrintJson(report, /*one_line=*/true) != 0) return 1;
  } else {
    PrintReport(report);
  }
  return report.errors().empty() ? 0 : 1;
}

}  // namespace ranker
