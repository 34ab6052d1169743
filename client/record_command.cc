// ranker-client record: interactions into the server's histories (ranker.v1.Events/Record),
// from the command line or from a file, in batches with deterministic request ids, so that
// running the same command again after a failure applies nothing twice (within the server's
// deduplication window).
#include <chrono>
#include <cstdio>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "client/command_output.h"
#include "client/commands.h"
#include "proto/ranker.grpc.pb.h"

namespace ranker {
namespace {

// Parses "user,item[,timestamp_ms]" (commas, tabs or spaces); false for a header or a blank line.
absl::StatusOr<bool> ParseLine(absl::string_view line, v1::Interaction* interaction) {
  line = absl::StripAsciiWhitespace(line);
  if (line.empty() || line[0] == '#') return false;
  std::vector<absl::string_view> fields =
      absl::StrSplit(line, absl::ByAnyChar(", \t"), absl::SkipEmpty());
  uint64_t user = 0, item = 0;
  int64_t timestamp_ms = 0;
  if (fields.size() < 2 || fields.size() > 3 || !absl::SimpleAtoi(fields[0], &user) ||
      !absl::SimpleAtoi(fields[1], &item) ||
      (fields.size() == 3 && !absl::SimpleAtoi(fields[2], &timestamp_ms))) {
    return absl::InvalidArgumentError("expected user,item[,timestamp_ms]");
  }
  interaction->set_user_id(user);
  interaction->set_item_id(item);
  interaction->set_timestamp_ms(timestamp_ms);
  return true;
}

class Recorder {
 public:
  Recorder(const CallOptions& call, std::string id_prefix, bool progress)
      : call_(call),
        stub_(v1::Events::NewStub(Connect(call, call.target))),
        id_prefix_(std::move(id_prefix)),
        progress_(progress) {}

  // Sends `request` (its id set from the batch number), retrying UNAVAILABLE with backoff.
  grpc::Status Send(v1::RecordRequest* request) {
    request->set_request_id(absl::StrCat(id_prefix_, ":", batches_++));
    grpc::Status status;
    for (int attempt = 0; attempt < 5; ++attempt) {
      if (attempt > 0) std::this_thread::sleep_for(std::chrono::milliseconds(200 << attempt));
      grpc::ClientContext context;
      SetDeadline(call_, &context);
      v1::RecordResponse response;
      status = stub_->Record(&context, *request, &response);
      if (status.ok()) {
        total_.set_recorded(total_.recorded() + response.recorded());
        total_.set_duplicates(total_.duplicates() + response.duplicates());
        total_.set_users(total_.users() + response.users());
        MaybeReport();
        return status;
      }
      if (status.error_code() != grpc::StatusCode::UNAVAILABLE) return status;
    }
    return status;
  }

  void MaybeReport() {
    const auto now = std::chrono::steady_clock::now();
    if (!progress_ || now - last_report_ < std::chrono::seconds(1)) return;
    last_report_ = now;
    std::fprintf(stderr, "recorded %lu interactions (%.0f/s)\n", total_.recorded(),
                 static_cast<double>(total_.recorded()) / Seconds());
  }
  double Seconds() const {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
  }
  const v1::RecordResponse& total() const { return total_; }
  uint64_t batches() const { return batches_; }

 private:
  const CallOptions& call_;
  std::unique_ptr<v1::Events::Stub> stub_;
  const std::string id_prefix_;
  const bool progress_;
  uint64_t batches_ = 0;
  v1::RecordResponse total_;
  const std::chrono::steady_clock::time_point start_ = std::chrono::steady_clock::now();
  std::chrono::steady_clock::time_point last_report_ = start_;
};

int PrintSummary(const CallOptions& call, const Recorder& recorder) {
  if (call.json) return PrintJson(recorder.total());
  const v1::RecordResponse& total = recorder.total();
  std::printf("recorded %lu interactions in %lu calls, %.2f s", total.recorded(),
              recorder.batches(), recorder.Seconds());
  if (total.duplicates() > 0) {
    std::printf(" (%lu were recorded before: not applied again)", total.duplicates());
  }
  std::printf("\n");
  return 0;
}

}  // namespace

int RunRecord(const CallOptions& call, const RecordCommand& command) {
  const bool from_file = !command.file.empty();
  if (from_file == (command.user.has_value() || !command.items.empty())) {
    std::fprintf(stderr, "ranker-client record: give --user and --items, or --file\n");
    return 2;
  }
  if (!from_file) {
    v1::RecordRequest request;
    for (absl::string_view part : absl::StrSplit(command.items, ',', absl::SkipWhitespace())) {
      uint64_t item = 0;
      if (!absl::SimpleAtoi(part, &item)) {
        std::fprintf(stderr, "ranker-client record: --items: '%s' is not an id\n",
                     std::string(part).c_str());
        return 2;
      }
      v1::Interaction* interaction = request.add_interactions();
      interaction->set_user_id(*command.user);
      interaction->set_item_id(item);
    }
    if (request.interactions().empty() || !command.user.has_value()) {
      std::fprintf(stderr, "ranker-client record: --user and --items are both needed\n");
      return 2;
    }
    // One call: a fresh id each run unless the caller gives one (a retry of its own).
    const std::string prefix =
        command.request_id.empty()
            ? absl::StrCat("cli-", std::chrono::system_clock::now().time_since_epoch().count())
            : command.request_id;
    Recorder recorder(call, prefix, /*progress=*/false);
    if (grpc::Status status = recorder.Send(&request); !status.ok()) return Fail(status);
    return PrintSummary(call, recorder);
  }
  std::ifstream in(command.file);
  if (!in) {
    std::fprintf(stderr, "ranker-client record: cannot read '%s'\n", command.file.c_str());
    return 2;
  }
  // The same file recorded again gets the same ids, so a rerun after a failure applies once.
  const std::string prefix =
      command.request_id.empty() ? absl::StrCat("file-", command.file) : command.request_id;
  Recorder recorder(call, prefix, command.progress);
  v1::RecordRequest request;
  std::string line;
  for (uint64_t line_number = 1; std::getline(in, line); ++line_number) {
    absl::StatusOr<bool> parsed = ParseLine(line, request.add_interactions());
    if (!parsed.ok() || !*parsed) request.mutable_interactions()->RemoveLast();
    if (!parsed.ok()) {
      if (line_number == 1) continue;  // a header
      std::fprintf(stderr, "ranker-client record: %s:%lu: %s\n", command.file.c_str(), line_number,
                   std::string(parsed.status().message()).c_str());
      return 2;
    }
    if (static_cast<uint32_t>(request.interactions_size()) >= command.batch) {
      if (grpc::Status status = recorder.Send(&request); !status.ok()) return Fail(status);
      request.clear_interactions();
    }
  }
  if (!request.interactions().empty()) {
    if (grpc::Status status = recorder.Send(&request); !status.ok()) return Fail(status);
  }
  return PrintSummary(call, recorder);
}

}  // namespace ranker
