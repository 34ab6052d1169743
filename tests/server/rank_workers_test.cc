#include "server/rank_workers.h"

#include <gtest/gtest.h>

#include <atomic>
#include <mutex>
#include <set>
#include <thread>

namespace ranker {
namespace {

TEST(RankWorkersTest, RunsEverySubmittedTaskOnItsOwnFixedThreads) {
  std::mutex mu;
  std::set<std::thread::id> threads;
  std::atomic<int> ran{0};
  {
    RankWorkers workers(3);
    EXPECT_EQ(workers.size(), 3u);
    for (int i = 0; i < 2000; ++i) {
      workers.Submit([&] {
        {
          std::lock_guard<std::mutex> lock(mu);
          threads.insert(std::this_thread::get_id());
        }
        ++ran;
      });
    }
  }  // the destructor runs what is queued, then joins
  EXPECT_EQ(ran.load(), 2000);
  EXPECT_LE(threads.size(), 3u);
  EXPECT_EQ(threads.count(std::this_thread::get_id()), 0u);
}

TEST(RankWorkersTest, ZeroMeansOnePerCore) {
  RankWorkers workers(0);
  EXPECT_EQ(workers.size(), std::max(1u, std::thread::hardware_concurrency()));
}

}  // namespace
}  // namespace ranker
