// ranker-client rank: one Rank call, or the same call repeated for latency percentiles.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <tuple>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "client/command_output.h"
#include "client/commands.h"
#include "proto/ranker.grpc.pb.h"

namespace ranker {
namespace {

double MillisSince(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start)
      .count();
}

void PrintRanking(const v1::RankRequest& request, const v1::RankResponse& response, double ms) {
  // A request that carries a history is about that history, whatever user id it names.
  const std::string who = request.history_ids().empty()
                              ? absl::StrCat("user ", request.user_id())
                              : absl::StrCat("a history of ", request.history_ids_size(), " ids");
  // "model version 3" for a single store; "model feed version 3 (canary, by the traffic split)".
  const bool named = !response.model().empty() && response.model() != "default";
  const std::string model =
      absl::StrCat("model ", named ? absl::StrCat(response.model(), " ") : std::string(),
                   "version ", response.model_version(),
                   response.version_label().empty()
                       ? std::string()
                       : absl::StrCat(" (", response.version_label(),
                                      response.split() ? ", by the traffic split)" : ")"));
  std::printf("%s: top %d of %s, %s, %.2f ms%s\n", who.c_str(), response.items_size(),
              request.candidate_ids().empty()
                  ? "the catalogue"
                  : absl::StrCat(request.candidate_ids_size(), " candidates").c_str(),
              model.c_str(), ms,
              response.unknown_ids() > 0
                  ? absl::StrCat(", ", response.unknown_ids(), " unknown ids (fallback)").c_str()
                  : "");
  switch (response.history_source()) {
    case v1::HISTORY_SOURCE_REQUEST:
    case v1::HISTORY_SOURCE_STORED:
      std::printf(
          "user vector pooled from %u history items (%s)%s\n", response.history_length(),
          response.history_source() == v1::HISTORY_SOURCE_REQUEST ? "from the request" : "stored",
          response.unknown_history_ids() > 0
              ? absl::StrCat(", ", response.unknown_history_ids(), " unknown ids ignored").c_str()
              : "");
      break;
    default:
      break;
  }
  if (response.popularity()) std::printf("no usable history: ranked by popularity\n");
  const v1::RankStages& stages = response.stages();
  if (stages.retrieval_scored() > 0) {
    std::printf(
        "two stages: retrieval scored %lu items by the dot product, kept %u (N = %u); "
        "the scorer ranked those\n",
        stages.retrieval_scored(), stages.ranked(), stages.retrieve_n());
  } else if (!response.popularity()) {
    std::printf("one stage: the scorer ranked all %u items\n", stages.ranked());
  }
  std::printf("%5s %20s %14s\n", "RANK", "ITEM", "SCORE");
  int rank = 0;
  for (const v1::ScoredItem& item : response.items()) {
    std::printf("%5d %20lu %14.6f\n", ++rank, item.item_id(), item.score());
  }
}

}  // namespace

int RunRank(const CallOptions& call, const RankCommand& command) {
  v1::RankRequest request;
  request.set_user_id(command.user);
  request.set_k(command.k);
  request.set_model_version(command.model_version);
  request.set_model(command.model);
  request.set_version_label(command.version_label);
  using IdList = google::protobuf::RepeatedField<uint64_t>;
  for (auto [flag, text, ids] :
       {std::tuple<const char*, const std::string*, IdList*>{"--candidates", &command.candidates,
                                                             request.mutable_candidate_ids()},
        std::tuple<const char*, const std::string*, IdList*>{"--history", &command.history,
                                                             request.mutable_history_ids()},
        std::tuple<const char*, const std::string*, IdList*>{"--exclude", &command.exclude,
                                                             request.mutable_exclude_ids()}}) {
    for (absl::string_view part : absl::StrSplit(*text, ',', absl::SkipWhitespace())) {
      uint64_t id = 0;
      if (!absl::SimpleAtoi(part, &id)) {
        std::fprintf(stderr, "ranker-client: %s: '%s' is not an id\n", flag,
                     std::string(part).c_str());
        return 2;
      }
      ids->Add(id);
    }
  }
  request.set_include_seen(command.include_seen);
  request.set_retrieve_n(command.retrieve_n);
  auto stub = v1::Ranker::NewStub(Connect(call, call.target));
  grpc::ClientContext context;
  SetDeadline(call, &context);
  v1::RankResponse response;
  auto start = std::chrono::steady_clock::now();
  grpc::Status status = stub->Rank(&context, request, &response);
  double ms = MillisSince(start);
  if (!status.ok()) return Fail(status);
  if (command.repeat > 1) {
    const double first_ms = ms;
    std::vector<double> latencies;
    for (uint32_t i = 1; i < command.repeat; ++i) {
      grpc::ClientContext again;
      SetDeadline(call, &again);
      start = std::chrono::steady_clock::now();
      status = stub->Rank(&again, request, &response);
      latencies.push_back(MillisSince(start));
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
        command.repeat, first_ms, latencies.front(), at(0.5), at(0.9), at(0.99), latencies.back());
    ms = at(0.5);
  }
  if (call.json) return PrintJson(response);
  PrintRanking(request, response, ms);
  return 0;
}

}  // namespace ranker
