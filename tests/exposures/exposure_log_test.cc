// The exposure log (exposures/exposure_log.h, exposure_file.h): what is logged is read back
// field for field and in order, sampling keeps the configured share, files rotate and the oldest
// go, a torn end is read up to and a damaged record refused, a full queue drops and counts.
#include "exposures/exposure_log.h"

#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <fstream>

#include "exposures/exposure_file.h"
#include "tests/support/test_util.h"

namespace ranker {
namespace {

using ::ranker::testing::TempDir;

v1::Exposure MakeExposure(uint64_t n) {
  v1::Exposure e;
  e.set_time_ms(1'700'000'000'000 + static_cast<int64_t>(n));
  e.set_model(n % 2 == 0 ? "feed" : "related");
  e.set_model_version(40 + n % 3);
  e.set_version_label(n % 3 == 0 ? "canary" : "stable");
  e.set_split(n % 5 == 0);
  e.set_user_id(1'000'000 + n);
  for (uint64_t k = 0; k < n % 7 + 1; ++k) {
    e.add_item_ids(n * 100 + k);
    e.add_scores(0.5f - 0.01f * static_cast<float>(k) + static_cast<float>(n) * 1e-7f);
  }
  return e;
}

std::vector<v1::Exposure> ReadAll(const std::string& dir, bool* torn = nullptr) {
  std::vector<v1::Exposure> out;
  const absl::StatusOr<std::vector<std::string>> files = ListExposureFiles(dir);
  EXPECT_TRUE(files.ok()) << files.status();
  if (!files.ok()) return out;
  for (const std::string& file : *files) {
    auto stats = ReadExposureFile(file, [&](const v1::Exposure& e) { out.push_back(e); });
    EXPECT_TRUE(stats.ok()) << stats.status();
    if (torn != nullptr && stats.ok()) *torn |= stats->torn_tail;
  }
  return out;
}

TEST(ExposureLogTest, WhatIsLoggedIsReadBackFieldForFieldInOrder) {
  TempDir dir;
  ExposureLogOptions options;
  options.dir = dir.Sub("exposures");
  {
    auto log = ExposureLog::Open(options);
    ASSERT_TRUE(log.ok()) << log.status();
    for (uint64_t n = 0; n < 500; ++n) ASSERT_TRUE((*log)->Log(MakeExposure(n)));
    (*log)->Flush();
    EXPECT_EQ((*log)->stats().logged, 500u);
    EXPECT_EQ(ReadAll(options.dir).size(), 500u) << "Flush means written";
  }
  const std::vector<v1::Exposure> read = ReadAll(options.dir);
  ASSERT_EQ(read.size(), 500u);
  for (uint64_t n = 0; n < read.size(); ++n) {
    ASSERT_EQ(read[n].SerializeAsString(), MakeExposure(n).SerializeAsString()) << n;
  }
  // Reopened, the log starts a new file after the newest and keeps the old ones.
  auto again = ExposureLog::Open(options);
  ASSERT_TRUE(again.ok());
  ASSERT_TRUE((*again)->Log(MakeExposure(500)));
  (*again)->Flush();
  const std::vector<std::string> files = ListExposureFiles(options.dir).value();
  ASSERT_EQ(files.size(), 2u);
  EXPECT_EQ(std::filesystem::path(files[1]).filename(), ExposureFileName(2));
  EXPECT_EQ(ReadAll(options.dir).size(), 501u);
}

TEST(ExposureLogTest, SamplingKeepsTheConfiguredShare) {
  TempDir dir;
  for (double rate : {0.0, 0.01, 0.1, 0.5, 1.0}) {
    ExposureLogOptions options;
    options.dir = dir.Sub("s");
    options.sample_rate = rate;
    options.seed = 7;
    auto log = ExposureLog::Open(options);
    ASSERT_TRUE(log.ok());
    constexpr int kCalls = 100000;
    int sampled = 0;
    for (int c = 0; c < kCalls; ++c) sampled += (*log)->ShouldSample();
    // Within five standard deviations of the binomial mean (exact at 0 and 1).
    const double mean = kCalls * rate, sd = std::sqrt(kCalls * rate * (1 - rate));
    EXPECT_LE(std::abs(sampled - mean), 5 * sd + 1e-9) << "rate " << rate << ": " << sampled;
  }
  ExposureLogOptions bad;
  bad.dir = dir.Sub("bad");
  bad.sample_rate = 1.5;
  EXPECT_EQ(ExposureLog::Open(bad).status().code(), absl::StatusCode::kInvalidArgument);
}

TEST(ExposureLogTest, FilesRotateAndTheOldestAreDeleted) {
  TempDir dir;
  ExposureLogOptions options;
  options.dir = dir.Sub("rot");
  options.max_file_bytes = 2000;
  options.keep_files = 3;
  auto log = ExposureLog::Open(options);
  ASSERT_TRUE(log.ok());
  for (uint64_t n = 0; n < 400; ++n) {
    ASSERT_TRUE((*log)->Log(MakeExposure(n)));
    if (n % 20 == 19) (*log)->Flush();  // a write per 20: files fill in steps
  }
  (*log)->Flush();
  EXPECT_EQ(ListExposureFiles(options.dir).value().size(), 3u);
  EXPECT_GT((*log)->stats().files, 3u);
  // What is left is the newest records, in order, ending with the last one logged.
  const std::vector<v1::Exposure> read = ReadAll(options.dir);
  ASSERT_FALSE(read.empty());
  EXPECT_EQ(read.back().user_id(), 1'000'000u + 399);
  for (size_t r = 1; r < read.size(); ++r) {
    EXPECT_EQ(read[r].user_id(), read[r - 1].user_id() + 1);
  }
}

TEST(ExposureLogTest, ATornEndIsReadUpToAndDamageIsRefused) {
  TempDir dir;
  ExposureLogOptions options;
  options.dir = dir.Sub("torn");
  {
    auto log = ExposureLog::Open(options);
    ASSERT_TRUE(log.ok());
    for (uint64_t n = 0; n < 10; ++n) (*log)->Log(MakeExposure(n));
  }
  const std::string file = ListExposureFiles(options.dir).value().at(0);
  const uint64_t size = std::filesystem::file_size(file);
  std::filesystem::resize_file(file, size - 3);  // the writer cut off in the last record
  bool torn = false;
  EXPECT_EQ(ReadAll(options.dir, &torn).size(), 9u);
  EXPECT_TRUE(torn);

  {
    std::fstream f(file, std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(10);  // inside the first record's message
    f.put('\x7f');
  }
  auto stats = ReadExposureFile(file, [](const v1::Exposure&) {});
  EXPECT_EQ(stats.status().code(), absl::StatusCode::kDataLoss);
  EXPECT_NE(stats.status().message().find("record at byte 0"), std::string::npos) << stats.status();
  EXPECT_EQ(ReadExposureFile(dir.Sub("none.log"), [](const v1::Exposure&) {}).status().code(),
            absl::StatusCode::kNotFound);
}

TEST(ExposureLogTest, AFullQueueDropsAndCountsInsteadOfWaiting) {
  TempDir dir;
  ExposureLogOptions options;
  options.dir = dir.Sub("full");
  options.queue_capacity = 1;
  auto log = ExposureLog::Open(options);
  ASSERT_TRUE(log.ok());
  uint64_t accepted = 0;
  for (uint64_t n = 0; n < 20000; ++n) accepted += (*log)->Log(MakeExposure(n));
  (*log)->Flush();
  const ExposureLog::Stats stats = (*log)->stats();
  EXPECT_EQ(stats.logged, accepted);
  EXPECT_EQ(stats.logged + stats.dropped, 20000u);
  EXPECT_GT(stats.dropped, 0u) << "a one-entry queue cannot keep up with a tight loop";
  EXPECT_EQ(ReadAll(options.dir).size(), accepted);
}

}  // namespace
}  // namespace ranker
