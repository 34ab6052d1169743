// The interaction log readers on small hand-made files: MovieLens u.data, CSV with a header
// and CRLF, CSV without timestamps or ratings, malformed lines named by file and line.
#include "interactions/interactions.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <utility>
#include <vector>

#include "tests/support/test_util.h"

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
TEST(ReaderTest, SpaceSeparatedWithoutTimestampsKeepsFileOrder) {
  TempDir dir;
  const std::string path = Write(dir, "log.txt", "0 5 1\n0  3\t1\n1 5 1\n\n0 9 1\n");
  auto data = ReadInteractions(path, LogFormat::kAuto, "spaces");
  ASSERT_TRUE(data.ok()) << data.status();
  EXPECT_EQ(data->interactions.size(), 4u);
  EXPECT_FALSE(data->has_timestamps);
  EXPECT_EQ(data->items(), 3u);
  // User 0's items in file order: 5, 3, 9 (timestamps are line positions).
  std::vector<std::pair<int64_t, uint64_t>> user0;
  for (const Interaction& x : data->interactions) {
    if (data->user_ids[x.user] == 0) user0.push_back({x.timestamp, data->item_ids[x.item]});
  }
  std::sort(user0.begin(), user0.end());
  ASSERT_EQ(user0.size(), 3u);
  EXPECT_EQ(user0[0].second, 5u);
  EXPECT_EQ(user0[1].second, 3u);
  EXPECT_EQ(user0[2].second, 9u);
  const auto bad = ReadInteractions(Write(dir, "bad.txt", "0 5 1\n0 x 1\n"), LogFormat::kAuto);
  EXPECT_EQ(bad.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(bad.status().message().find("bad.txt:2: item id 'x'"), std::string::npos)
      << bad.status();
}

TEST(ReaderTest, ASplitDirectoryIsReadAsOneLogTrainValidTest) {
  TempDir dir;
  std::filesystem::create_directories(dir.Sub("set"));
  Write(dir, "set/train.txt", "0 1 1\n1 1 1\n");
  Write(dir, "set/valid.txt", "0 2 1\n");
  Write(dir, "set/test.txt", "0 3 1\n1 2 1\n");
  auto data = ReadInteractions(dir.Sub("set"), LogFormat::kAuto, "set");
  ASSERT_TRUE(data.ok()) << data.status();
  EXPECT_EQ(data->interactions.size(), 5u);
  int64_t last_train = -1, first_test = 1 << 30;
  for (const Interaction& x : data->interactions) {
    if (data->user_ids[x.user] != 0) continue;
    if (data->item_ids[x.item] == 1) last_train = x.timestamp;
    if (data->item_ids[x.item] == 3) first_test = x.timestamp;
  }
  EXPECT_LT(last_train, first_test) << "train lines come before test lines";
  std::filesystem::remove(dir.Sub("set/valid.txt"));
  const auto missing = ReadInteractions(dir.Sub("set"), LogFormat::kAuto);
  EXPECT_EQ(missing.status().code(), absl::StatusCode::kNotFound);
  EXPECT_NE(missing.status().message().find("valid.txt"), std::string::npos);
}

}  // namespace
}  // namespace ranker
