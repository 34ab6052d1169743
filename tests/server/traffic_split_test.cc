// Traffic splits (server/traffic_split.h): a 90/10 split over 100,000 users lands within
// binomial tolerance, assignment is a pure function of (salt, user) that a second splitter (as
// in another process) reproduces, salts reshuffle, and moving 1% moves only those users.
#include "server/traffic_split.h"

#include <gtest/gtest.h>

#include <cmath>
#include <map>
#include <string>

namespace ranker {
namespace {

config::TrafficSplit Split(const std::string& salt,
                           std::initializer_list<std::pair<const char*, double>> arms) {
  config::TrafficSplit split;
  split.set_salt(salt);
  for (const auto& [label, percent] : arms) {
    config::TrafficSplit::Arm* arm = split.add_arms();
    arm->set_label(label);
    arm->set_percent(percent);
  }
  return split;
}

TEST(TrafficSplitTest, NinetyTenLandsWithinBinomialTolerance) {
  const TrafficSplitter splitter(Split("feed", {{"stable", 90}, {"canary", 10}}));
  constexpr int kUsers = 100000;
  int canary = 0;
  for (uint64_t user = 0; user < kUsers; ++user) canary += splitter.Assign(user) == "canary";
  // 10% of 100,000: sd = sqrt(n p (1-p)) = ~95; 4 sd either side.
  const double sd = std::sqrt(kUsers * 0.1 * 0.9);
  EXPECT_NEAR(canary, kUsers * 0.1, 4 * sd) << canary;
}

TEST(TrafficSplitTest, AssignmentIsAFunctionOfSaltAndUser) {
  const config::TrafficSplit split = Split("feed", {{"stable", 90}, {"canary", 10}});
  const TrafficSplitter first(split), second(split);  // two processes, two restarts
  const TrafficSplitter other_salt(Split("feed-v2", {{"stable", 90}, {"canary", 10}}));
  int moved = 0;
  for (uint64_t user = 0; user < 20000; ++user) {
    ASSERT_EQ(first.Assign(user), second.Assign(user)) << user;
    moved += first.Assign(user) != other_salt.Assign(user);
  }
  // Independent salts: P(different) = 2 * 0.9 * 0.1 = 18% of users.
  EXPECT_NEAR(moved, 20000 * 0.18, 20000 * 0.03);
  // Pinned buckets: a change to the hash would silently reassign every user in production.
  EXPECT_EQ(first.Bucket(0), 3861u);
  EXPECT_EQ(first.Bucket(1), 6650u);
  EXPECT_EQ(first.Bucket(42), 4658u);
  EXPECT_EQ(first.Bucket(1000000007), 6070u);
}

TEST(TrafficSplitTest, MovingOnePercentMovesOnlyThoseUsers) {
  const TrafficSplitter before(Split("s", {{"stable", 90}, {"canary", 10}}));
  const TrafficSplitter after(Split("s", {{"stable", 89}, {"canary", 11}}));
  int moved = 0;
  for (uint64_t user = 0; user < 100000; ++user) {
    const std::string& was = before.Assign(user);
    const std::string& is = after.Assign(user);
    if (was != is) {
      ASSERT_EQ(was, "stable");  // nobody leaves the canary
      ++moved;
    }
  }
  EXPECT_NEAR(moved, 1000, 4 * std::sqrt(100000 * 0.01 * 0.99));
}

TEST(TrafficSplitTest, ThreeArmsAndFractionalPercents) {
  const TrafficSplitter splitter(Split("x", {{"a", 0.5}, {"b", 49.5}, {"c", 50}}));
  std::map<std::string, int> counts;
  for (uint64_t user = 0; user < 200000; ++user) ++counts[splitter.Assign(user)];
  EXPECT_NEAR(counts["a"], 1000, 4 * std::sqrt(200000 * 0.005));
  EXPECT_NEAR(counts["b"], 99000, 4 * std::sqrt(200000 * 0.25));
  EXPECT_NEAR(counts["c"], 100000, 4 * std::sqrt(200000 * 0.25));
}

}  // namespace
}  // namespace ranker
