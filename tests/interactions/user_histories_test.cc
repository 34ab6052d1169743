// The histories an interaction log implies, as stored for serving: wire ids, time order.
#include "interactions/user_histories.h"

#include <gtest/gtest.h>

#include <fstream>

#include "tests/support/test_util.h"
namespace ranker {
namespace {

using ::ranker::testing::TempDir;
TEST(UserHistoriesTest, GroupsByUserInTimeOrderWithWireIds) {
  // (user, item, rating, timestamp), deliberately out of order.
  const Dataset log = MakeDataset("hand",
                                  {{50, 900, 5, 30},
                                   {7, 300, 4, 20},
                                   {50, 100, 3, 10},
                                   {7, 900, 1, 5},
                                   {50, 300, 2, 20},
                                   {7, 100, 1, 20}},
                                  /*has_timestamps=*/true);
  const std::vector<UserHistory> histories = UserHistoriesOf(log);
  ASSERT_EQ(histories.size(), 2u);
  EXPECT_EQ(histories[0].user_id, 7u);
  // Equal timestamps: ascending item id.
  EXPECT_EQ(histories[0].items, (std::vector<uint64_t>{900, 100, 300}));
  EXPECT_EQ(histories[1].user_id, 50u);
  EXPECT_EQ(histories[1].items, (std::vector<uint64_t>{100, 300, 900}));
}

TEST(UserHistoriesTest, ALogReadWithoutTimestampsKeepsItsLineOrder) {
  TempDir dir;
  std::ofstream(dir.Sub("log.csv")) << "user,item\n1,30\n2,5\n1,10\n1,20\n1,30\n";
  auto log = ReadInteractions(dir.Sub("log.csv"), LogFormat::kCsv);
  ASSERT_TRUE(log.ok()) << log.status();
  EXPECT_FALSE(log->has_timestamps);
  const std::vector<UserHistory> histories = UserHistoriesOf(*log);
  ASSERT_EQ(histories.size(), 2u);
  // Item 30 appears twice: its last line counts.
  EXPECT_EQ(histories[0].items, (std::vector<uint64_t>{10, 20, 30}));
  EXPECT_EQ(histories[1].items, (std::vector<uint64_t>{5}));
}

TEST(UserHistoriesTest, ADatasetWithoutTimesIsInItemIdOrder) {
  const Dataset log = MakeDataset("no-time", {{1, 30, 1, 0}, {1, 10, 1, 0}, {1, 20, 1, 0}},
                                  /*has_timestamps=*/false);
  const std::vector<UserHistory> histories = UserHistoriesOf(log);
  ASSERT_EQ(histories.size(), 1u);
  EXPECT_EQ(histories[0].items, (std::vector<uint64_t>{10, 20, 30}));
}

}  // namespace
}  // namespace ranker
