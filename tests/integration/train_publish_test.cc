// ranker-train as a user runs it: a history model trained on a generated log is published with
// the log's histories, and a running server hot-loads it and ranks stored users by them.
#include <gtest/gtest.h>

#include <fstream>
#include <thread>

#include "tests/support/server_fixture.h"

namespace ranker {
namespace {

using ::ranker::testing::BinaryPath;
using ::ranker::testing::RunCommand;
using ::ranker::testing::RunningServer;
using ::ranker::testing::RunStoreTool;
using ::ranker::testing::TempDir;

// 80 users, each of whom saw 12 of 40 items, in time order: user u likes items of its group.
void WriteLog(const std::string& path) {
  std::ofstream log(path);
  log << "user,item,rating,timestamp\n";
  for (int user = 1; user <= 80; ++user) {
    const int group = user % 4;
    for (int j = 0; j < 12; ++j) {
      const int item = 100 + (group * 10 + (user + 3 * j) % 10);
      log << user << "," << item << ",5," << (1000 + 10 * user + j) << "\n";
    }
  }
}

TEST(TrainPublishTest, AHistoryModelIsPublishedWithItsHistoriesAndServedByUserId) {
  TempDir dir;
  WriteLog(dir.Sub("log.csv"));
  const std::string store = dir.Sub("store");
  RunStoreTool(
      {"demo", "--store=" + store, "--users=50", "--items=40", "--d=8", "--hidden=8", "--ratio=2"});
  RunningServer server(store, {"--poll_interval=200ms"});
  ASSERT_TRUE(server.ok());

  std::string out, err;
  ASSERT_EQ(RunCommand({BinaryPath("trainer/ranker-train"), "train", "--data=" + dir.Sub("log.csv"),
                        "--user_mode=history", "--kind=memcom", "--ratio=2", "--d=8", "--hidden=8",
                        "--max_epochs=2", "--publish=" + store},
                       &out, &err),
            0)
      << err;
  EXPECT_NE(out.find("stored the histories of 80 users (800 interactions)"), std::string::npos)
      << out;
  EXPECT_NE(out.find("published version 2"), std::string::npos) << out;

  ASSERT_EQ(RunCommand({BinaryPath("model_store/ranker-store"), "history", "show", "7",
                        "--store=" + store},
                       &out, &err),
            0)
      << err;
  // User 7 (group 3): items 130 + (7 + 3j) % 10 for j = 0..11, oldest first, the newest
  // occurrence of each repeat kept: j = 2..11 give 133,136,139,132,135,138,131,134,137,130.
  EXPECT_NE(out.find("user 7: 10 items, oldest first\n133,136,139,132,135,138,131,134,137,130"),
            std::string::npos)
      << out;

  bool served = false;
  for (int attempt = 0; attempt < 100 && !served; ++attempt) {
    ASSERT_EQ(RunCommand({BinaryPath("client/ranker-client"), "rank", "--target=" + server.target(),
                          "--user=7", "--k=5"},
                         &out, &err),
              0)
        << err;
    served = out.find("model version 2") != std::string::npos;
    if (!served) std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  ASSERT_TRUE(served) << out;
  EXPECT_NE(out.find("pooled from 10 history items (stored)"), std::string::npos)
      << out;  // The ten items user 7 saw are hidden; what is left of the catalogue is other
               // groups' items.
  int rows = 0;
  for (size_t at = out.find("\n    "); at != std::string::npos; at = out.find("\n    ", at + 1)) {
    ++rows;
  }
  EXPECT_EQ(rows, 5) << out;
  for (int item = 130; item < 140; ++item) {
    EXPECT_EQ(out.find(" " + std::to_string(item) + " "), std::string::npos) << item << out;
  }
}

// A memory budget: --target_ratio 16 on a 3,000-item log chooses head/tail pq rows (the budget
// rule, model/row_budget.h), prints the whole-model ratio, and the server loads and serves
// that storage and reports it; `ranker-store demo --target_ratio` builds the same shape.
TEST(TrainPublishTest, ABudgetTrainsHeadTailRowsThatTheServerServes) {
  TempDir dir;
  {
    std::ofstream log(dir.Sub("log.csv"));
    log << "user,item,rating,timestamp\n";
    for (int user = 0; user < 600; ++user) {
      for (int j = 0; j < 20; ++j) {
        // Low item ids are popular: every user sees items below 100, and a stripe of the rest
        // (2,350 items in all).
        const int item = j < 5 ? (user + j * 17) % 100 : (user * 20 + j) % 3000;
        log << user << "," << item << ",5," << (1000 + 30 * user + j) << "\n";
      }
    }
  }
  const std::string store = dir.Sub("store");
  std::string out, err;
  ASSERT_EQ(RunCommand({BinaryPath("trainer/ranker-train"), "train", "--data=" + dir.Sub("log.csv"),
                        "--target_ratio=16", "--d=64", "--hidden=8", "--max_epochs=1",
                        "--publish=" + store},
                       &out, &err),
            0)
      << err;
  EXPECT_NE(out.find("target ratio 16: full history tables, input head30:pq32x4+pq16x4, output "
                     "head30:pq32x4+pq16x4 (18.1x"),
            std::string::npos)
      << out;
  EXPECT_NE(out.find("whole-model ratio 18.1"), std::string::npos) << out;

  RunningServer server(store, {"--poll_interval=200ms"});
  ASSERT_TRUE(server.ok());
  ASSERT_EQ(RunCommand({BinaryPath("client/ranker-client"), "info", "--target=" + server.target()},
                       &out, &err),
            0)
      << err;
  EXPECT_NE(out.find("head30:pq32x4+pq16x4"), std::string::npos) << out;
  ASSERT_EQ(RunCommand({BinaryPath("client/ranker-client"), "rank", "--target=" + server.target(),
                        "--user=7", "--k=5"},
                       &out, &err),
            0)
      << err;
  EXPECT_NE(out.find("pooled from"), std::string::npos) << out;

  const std::string demo = dir.Sub("demo");
  RunStoreTool({"demo", "--store=" + demo, "--items=3000", "--d=64", "--target_ratio=16"});
  ASSERT_EQ(RunCommand({BinaryPath("model_store/ranker-store"), "inspect", "1", "--store=" + demo},
                       &out, &err),
            0)
      << err;
  EXPECT_NE(out.find("head30:pq32x4+pq16x4"), std::string::npos) << out;
}

}  // namespace
}  // namespace ranker
