#include "server/reload_policy.h"

#include <gtest/gtest.h>

namespace ranker {
namespace {

struct Case {
  const char* name;
  ReloadState state;
  size_t keep;
  ReloadPolicy policy;
  std::optional<uint64_t> load;
  std::vector<uint64_t> unload;
  bool unload_first;
};

constexpr auto kAvail = ReloadPolicy::kAvailabilityPreserving;
constexpr auto kRes = ReloadPolicy::kResourcePreserving;

TEST(ReloadPolicyTest, TableOfCases) {
  const std::vector<Case> cases = {
      {"empty store", {{}, {}, {}, {}}, 1, kAvail, std::nullopt, {}, false},
      {"first load", {{}, {1}, {}, {}}, 1, kAvail, 1, {}, false},
      {"first load takes the newest", {{}, {1, 2, 3}, {}, {}}, 1, kAvail, 3, {}, false},
      {"up to date", {{3}, {1, 2, 3}, {}, {}}, 1, kAvail, std::nullopt, {}, false},
      {"newer: swap", {{3}, {3, 4}, {}, {}}, 1, kAvail, 4, {3}, false},
      {"skipped versions", {{3}, {3, 5, 9}, {}, {}}, 1, kAvail, 9, {3}, false},
      {"store went back", {{5}, {3, 4}, {}, {}}, 1, kAvail, std::nullopt, {}, false},
      {"failed latest not retried", {{3}, {3, 4}, {4}, {}}, 1, kAvail, std::nullopt, {}, false},
      {"failed latest, older newer one", {{3}, {3, 4, 5}, {5}, {}}, 1, kAvail, 4, {3}, false},
      {"newer than failed", {{3}, {3, 4, 5}, {4}, {}}, 1, kAvail, 5, {3}, false},
      {"fresh start, bad latest: fall back", {{}, {1, 2}, {2}, {}}, 1, kAvail, 1, {}, false},
      {"fresh start, all bad", {{}, {1, 2}, {1, 2}, {}}, 1, kAvail, std::nullopt, {}, false},
      {"keep 2 grows", {{3}, {3, 4}, {}, {}}, 2, kAvail, 4, {}, false},
      {"keep 2 full", {{3, 4}, {3, 4, 5}, {}, {}}, 2, kAvail, 5, {3}, false},
      {"keep 3 over full", {{1, 2, 3, 4}, {5}, {}, {}}, 3, kAvail, 5, {1, 2}, false},
      {"resource: unload first", {{3}, {4}, {}, {}}, 1, kRes, 4, {3}, true},
      {"resource: nothing to drop", {{3}, {4}, {}, {}}, 2, kRes, 4, {}, false},
      {"keep 0 acts as 1", {{3}, {4}, {}, {}}, 0, kAvail, 4, {3}, false},
      // Nothing newer: fill up to keep with the newest older versions, unloading nothing.
      {"keep 2 fills in the one before", {{3}, {1, 2, 3}, {}, {}}, 2, kAvail, 2, {}, false},
      {"keep 3 fills in newest first", {{3}, {1, 2, 3}, {}, {}}, 3, kAvail, 2, {}, false},
      {"keep 3 then the oldest", {{2, 3}, {1, 2, 3}, {}, {}}, 3, kAvail, 1, {}, false},
      {"fill-in skips failed", {{3}, {1, 2, 3}, {2}, {}}, 2, kAvail, std::nullopt, {}, false},
      {"fill-in only within the newest keep", {{3}, {1, 2, 3}, {2}, {}}, 3, kAvail, 1, {}, false},
      {"keep 2, one available", {{3}, {3}, {}, {}}, 2, kAvail, std::nullopt, {}, false},
      // Labelled versions are never unloaded.
      {"protected stays", {{1, 2}, {1, 2, 3}, {}, {1}}, 2, kAvail, 3, {}, false},
      {"protected stays, others go",
       {{1, 2, 3}, {1, 2, 3, 4}, {}, {2}},
       1,
       kAvail,
       4,
       {1, 3},
       false},
  };
  for (const Case& c : cases) {
    const ReloadAction action = DecideReload(c.state, c.keep, c.policy);
    EXPECT_EQ(action.load, c.load) << c.name;
    EXPECT_EQ(action.unload, c.unload) << c.name;
    EXPECT_EQ(action.unload_before_load, c.unload_first) << c.name;
  }
}

TEST(ReloadPolicyTest, ParsesNames) {
  EXPECT_EQ(*ParseReloadPolicy("resource_preserving"), kRes);
  EXPECT_EQ(ReloadPolicyName(*ParseReloadPolicy("availability_preserving")),
            "availability_preserving");
  EXPECT_FALSE(ParseReloadPolicy("yolo").ok());
}

}  // namespace
}  // namespace ranker
