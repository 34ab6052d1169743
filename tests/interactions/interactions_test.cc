// The interaction log readers on small hand-made files: MovieLens u.data, CSV with a header
// and CRLF, CSV without timestamps or ratings, malformed lines named by file and line.
#include "interactions/interactions.h"

#include <gtest/gtest.h>

#include <fstream>

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
}  // namespace
}  // namespace ranker
