// The exposure log through the real server: sampled Rank responses reach the log field for field
// (model, version, label, user, items, scores), at the configured rate, and `ranker-store
// exposures` prints them as CSV; the counters say how many.
#include <gtest/gtest.h>
#include <signal.h>

#include <cmath>
#include <sstream>

#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "exposures/exposure_file.h"
#include "tests/support/server_fixture.h"

namespace ranker {
namespace {

using ::ranker::testing::BinaryPath;
using ::ranker::testing::MetricValue;
using ::ranker::testing::RunCommand;
using ::ranker::testing::RunningServer;
using ::ranker::testing::RunStoreTool;
using ::ranker::testing::TempDir;

std::vector<v1::Exposure> ReadLog(const std::string& dir) {
  std::vector<v1::Exposure> out;
  const absl::StatusOr<std::vector<std::string>> files = ListExposureFiles(dir);
  EXPECT_TRUE(files.ok()) << files.status();
  if (!files.ok()) return out;
  for (const std::string& file : *files) {
    auto stats = ReadExposureFile(file, [&](const v1::Exposure& e) { out.push_back(e); });
    EXPECT_TRUE(stats.ok()) << stats.status();
  }
  return out;
}

TEST(ExposureIntegrationTest, SampledResponsesAreLoggedFieldForFieldAndPrintedAsCsv) {
  TempDir dir;
  const std::string store = dir.Sub("store");
  RunStoreTool({"demo", "--store=" + store, "--users=200", "--items=300", "--d=8", "--hidden=8",
                "--ratio=2"});
  const std::string log_dir = store + "-exposures";  // the default place
  std::vector<v1::RankResponse> responses;
  std::vector<uint64_t> users;
  {
    RunningServer server(store, {"--exposure_sample_rate=1"});
    ASSERT_TRUE(server.ok());
    auto stub = server.Ranker();
    for (uint64_t user = 1; user <= 50; ++user) {
      grpc::ClientContext context;
      v1::RankRequest request;
      request.set_user_id(user * 3);
      request.set_k(5);
      v1::RankResponse response;
      ASSERT_TRUE(stub->Rank(&context, request, &response).ok());
      responses.push_back(response);
      users.push_back(user * 3);
    }
    // Written within the flush interval (1 s); the counter says so.
    double logged = 0;
    for (int attempt = 0; attempt < 50 && logged < 50; ++attempt) {
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
      logged = MetricValue(server.ScrapeMetrics(), "ranker_exposures_logged_total");
    }
    EXPECT_EQ(logged, 50);
    EXPECT_EQ(MetricValue(server.ScrapeMetrics(), "ranker_exposures_dropped_total"), 0);
    server.process().Signal(SIGTERM);
    EXPECT_EQ(server.process().Wait(absl::Seconds(20)), 0);
  }
  const std::vector<v1::Exposure> logged = ReadLog(log_dir);
  ASSERT_EQ(logged.size(), 50u);
  for (size_t c = 0; c < logged.size(); ++c) {
    const v1::Exposure& e = logged[c];
    const v1::RankResponse& r = responses[c];
    EXPECT_EQ(e.user_id(), users[c]);
    EXPECT_EQ(e.model(), "default");
    EXPECT_EQ(e.model_version(), r.model_version());
    EXPECT_EQ(e.version_label(), r.version_label());
    EXPECT_FALSE(e.split());
    ASSERT_EQ(e.item_ids_size(), 5);
    for (int k = 0; k < 5; ++k) {
      EXPECT_EQ(e.item_ids(k), r.items(k).item_id());
      EXPECT_EQ(e.scores(k), r.items(k).score());
    }
    EXPECT_GT(e.time_ms(), 1'700'000'000'000);
  }

  std::string out, err;
  ASSERT_EQ(RunCommand({BinaryPath("model_store/ranker-store"), "exposures", "--store=" + store},
                       &out, &err),
            0)
      << err;
  const std::vector<std::string> lines = absl::StrSplit(out, '\n', absl::SkipEmpty());
  ASSERT_EQ(lines.size(), 51u) << out;
  EXPECT_EQ(lines[0], "time_ms,model,model_version,version_label,split,user_id,item_ids,scores");
  std::vector<std::string> scores;
  for (const v1::ScoredItem& item : responses[0].items()) {
    scores.push_back(absl::StrFormat("%.9g", item.score()));
  }
  std::vector<uint64_t> ids;
  for (const v1::ScoredItem& item : responses[0].items()) ids.push_back(item.item_id());
  EXPECT_EQ(lines[1],
            absl::StrCat(logged[0].time_ms(), ",default,", responses[0].model_version(), ",,0,3,",
                         absl::StrJoin(ids, " "), ",", absl::StrJoin(scores, " ")));
  EXPECT_NE(err.find("50 exposures printed of 50 read from 1 files"), std::string::npos) << err;
  // --since keeps the later records only.
  ASSERT_EQ(
      RunCommand({BinaryPath("model_store/ranker-store"), "exposures", "--exposures=" + log_dir,
                  "--since=" + std::to_string(logged.back().time_ms() + 1)},
                 &out, &err),
      0);
  EXPECT_NE(err.find("0 exposures printed of 50 read"), std::string::npos) << err;
}

TEST(ExposureIntegrationTest, TheServerSamplesAtTheConfiguredRate) {
  TempDir dir;
  const std::string store = dir.Sub("store");
  RunStoreTool({"demo", "--store=" + store, "--users=200", "--items=300", "--d=8", "--hidden=8",
                "--ratio=2"});
  const std::string log_dir = dir.Sub("exposures");
  constexpr int kCalls = 2000;
  constexpr double kRate = 0.2;
  {
    RunningServer server(
        store, {"--exposure_log=" + log_dir, "--exposure_sample_rate=" + std::to_string(kRate)});
    ASSERT_TRUE(server.ok());
    auto stub = server.Ranker();
    for (int c = 0; c < kCalls; ++c) {
      grpc::ClientContext context;
      v1::RankRequest request;
      request.set_user_id(static_cast<uint64_t>(c % 200));
      request.set_k(3);
      v1::RankResponse response;
      ASSERT_TRUE(stub->Rank(&context, request, &response).ok());
    }
    server.process().Signal(SIGTERM);
    EXPECT_EQ(server.process().Wait(absl::Seconds(20)), 0);
  }
  const double logged = static_cast<double>(ReadLog(log_dir).size());
  const double mean = kCalls * kRate, sd = std::sqrt(kCalls * kRate * (1 - kRate));
  EXPECT_LE(std::abs(logged - mean), 5 * sd) << logged << " of " << kCalls;
}

}  // namespace
}  // namespace ranker
