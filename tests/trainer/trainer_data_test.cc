// Readers, the split and the ranking metrics, on small hand-made inputs.
#include <gtest/gtest.h>

#include <cmath>
#include <fstream>

#include "tests/support/test_util.h"
#include "trainer/interactions.h"
#include "trainer/ranking_metrics.h"
#include "trainer/split.h"

namespace ranker {
namespace {

using ::ranker::testing::TempDir;

std::string Write(const TempDir& dir, const std::string& name, const std::string& text) {
  const std::string path = dir.Sub(name);
  std::ofstream(path, std::ios::binary) << text;
  return path;
}

TEST(ReaderTest, MovieLensTabSeparated) {
  TempDir dir;
  const std::string path = Write(dir, "u.data",
                                 "196\t242\t3\t881250949\n186\t302\t3\t891717742\n"
                                 "22\t377\t1\t878887116\n196\t377\t4\t881250950\n");
  auto data = ReadInteractions(path, LogFormat::kAuto, "tiny");
  ASSERT_TRUE(data.ok()) << data.status();
  EXPECT_EQ(data->interactions.size(), 4u);
  EXPECT_EQ(data->user_ids, (std::vector<uint64_t>{22, 186, 196}));
  EXPECT_EQ(data->item_ids, (std::vector<uint64_t>{242, 302, 377}));
  EXPECT_TRUE(data->has_timestamps);
  // Dense indices follow id order: user 196 is index 2, item 377 is index 2.
  int found = 0;
  for (const Interaction& x : data->interactions) {
    if (x.user == 2 && x.item == 2) {
      EXPECT_EQ(x.rating, 4);
      EXPECT_EQ(x.timestamp, 881250950);
      ++found;
    }
  }
  EXPECT_EQ(found, 1);
}

TEST(ReaderTest, RatingsCsvWithHeaderAndCrlf) {
  TempDir dir;
  const std::string path = Write(dir, "ratings.csv",
                                 "userId,movieId,rating,timestamp\r\n1,1,4.0,964982703\r\n"
                                 "1,193609,0.5,964981247\r\n2,1,2.5,964982224\r\n");
  auto data = ReadInteractions(path, LogFormat::kAuto);
  ASSERT_TRUE(data.ok()) << data.status();
  EXPECT_EQ(data->interactions.size(), 3u);
  EXPECT_EQ(data->item_ids, (std::vector<uint64_t>{1, 193609}));  // sparse ids remapped
  EXPECT_EQ(data->users(), 2u);
}

TEST(ReaderTest, GenericCsvWithoutTimestampsOrRatings) {
  TempDir dir;
  const std::string path = Write(dir, "log.csv", "5,7\n5,8\n6,7\n");
  auto data = ReadInteractions(path, LogFormat::kCsv);
  ASSERT_TRUE(data.ok()) << data.status();
  EXPECT_FALSE(data->has_timestamps);
  EXPECT_EQ(data->interactions.size(), 3u);
}

TEST(ReaderTest, MalformedLinesNameFileLineAndReason) {
  TempDir dir;
  struct Case {
    std::string text, reason;
  } cases[] = {
      {"1,2,3,4\n1,x,3,4\n", "log.csv:2: item id 'x' is not a non-negative integer"},
      {"1,2,3,4\n1\n", "log.csv:2: expected 2 to 4 fields, found 1"},
      {"1,2,3,4\n1,2,abc,4\n", "log.csv:2: rating 'abc' is not a number"},
      {"userId,movieId\r\n1,2\r\n-3,2\r\n",
       "log.csv:3: user id '-3' is not a non-negative integer"},
  };
  for (const Case& c : cases) {
    const std::string path = Write(dir, "log.csv", c.text);
    auto data = ReadInteractions(path, LogFormat::kCsv);
    ASSERT_FALSE(data.ok());
    EXPECT_EQ(data.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_NE(data.status().message().find(c.reason), std::string::npos) << data.status();
  }
  auto tab = ReadInteractions(Write(dir, "u.data", "1\t2\t3\n"), LogFormat::kAuto);
  EXPECT_NE(tab.status().message().find("u.data:1: expected 4 tab-separated fields"),
            std::string::npos)
      << tab.status();
  EXPECT_EQ(ReadInteractions(dir.Sub("missing.csv"), LogFormat::kCsv).status().code(),
            absl::StatusCode::kNotFound);
}

TEST(SplitTest, LastTwentyPercentTestTenPercentValidationInTimeOrder) {
  // User 0 has 10 interactions at times 100..109 on items 0..9 (given out of order);
  // user 1 has 2 interactions.
  std::vector<std::array<double, 4>> raw;
  for (int i : {3, 9, 0, 5, 1, 7, 2, 8, 4, 6}) raw.push_back({0, double(i), 1, 100.0 + i});
  raw.push_back({1, 4, 1, 50});
  raw.push_back({1, 2, 1, 40});
  Dataset data = MakeDataset("hand", raw, true);
  const Split split = SplitPerUser(data);
  EXPECT_EQ(split.users[0].train, (std::vector<uint32_t>{0, 1, 2, 3, 4, 5, 6}));
  EXPECT_EQ(split.users[0].validation, (std::vector<uint32_t>{7}));
  EXPECT_EQ(split.users[0].test, (std::vector<uint32_t>{8, 9}));
  // At least one test item even for tiny histories; the latest one.
  EXPECT_EQ(split.users[1].test, (std::vector<uint32_t>{4}));
  EXPECT_EQ(split.users[1].train, (std::vector<uint32_t>{2}));
  EXPECT_EQ(split.train_item_counts[2], 2u);
  EXPECT_EQ(split.train_interactions, 8u);
}

TEST(SplitTest, WithoutTimestampsTheSplitIsSeededAndComplete) {
  std::vector<std::array<double, 4>> raw;
  for (int i = 0; i < 20; ++i) raw.push_back({0, double(i), 1, 0});
  Dataset data = MakeDataset("no-time", raw, false);
  SplitOptions a, b;
  a.seed = 1;
  b.seed = 2;
  const Split s1 = SplitPerUser(data, a), s1_again = SplitPerUser(data, a),
              s2 = SplitPerUser(data, b);
  EXPECT_EQ(s1.users[0].test, s1_again.users[0].test);
  EXPECT_NE(s1.users[0].test, s2.users[0].test);
  EXPECT_EQ(s1.users[0].test.size(), 4u);
  EXPECT_EQ(s1.users[0].validation.size(), 2u);
  EXPECT_EQ(s1.users[0].train.size(), 14u);
}

TEST(MetricsTest, HandComputedNdcgAndRecall) {
  // Relevant {2, 5, 9}; ranking hits at ranks 1 and 3.
  const std::vector<uint32_t> relevant = {2, 5, 9};
  const std::vector<uint32_t> ranked = {5, 1, 9, 3, 4, 6, 7, 8, 0, 10};
  const double dcg = 1.0 + 1.0 / std::log2(4.0);
  const double ideal = 1.0 + 1.0 / std::log2(3.0) + 1.0 / std::log2(4.0);
  EXPECT_NEAR(NdcgAtK(ranked, relevant, 10), dcg / ideal, 1e-12);
  EXPECT_NEAR(RecallAtK(ranked, relevant, 10), 2.0 / 3.0, 1e-12);
  EXPECT_NEAR(NdcgAtK(ranked, relevant, 1), 1.0, 1e-12);  // perfect at cut-off 1
  EXPECT_EQ(NdcgAtK({1, 3, 4}, relevant, 10), 0.0);
  // More relevant items than K: the ideal DCG stops at K.
  std::vector<uint32_t> many(20);
  for (uint32_t i = 0; i < 20; ++i) many[i] = i;
  EXPECT_NEAR(NdcgAtK(many, many, 10), 1.0, 1e-12);
  EXPECT_NEAR(RecallAtK(many, many, 10), 0.5, 1e-12);
}

TEST(MetricsTest, MeanAndStandardError) {
  const MeanStdErr s = Summarize({1, 2, 3, 4});
  EXPECT_DOUBLE_EQ(s.mean, 2.5);
  EXPECT_NEAR(s.stderr_, std::sqrt(5.0 / 3.0 / 4.0), 1e-12);
  EXPECT_EQ(s.n, 4u);
}

}  // namespace
}  // namespace ranker
