// The server's threads under steady load: every call type (Rank inline, Rank on the workers,
// the health check) served by threads that were already there. gRPC's synchronous server
// created and retired threads per burst (796 thread ids in 8 s, ~27 alive), each rebuilding
// its thread-local scratch; this test fails if that comes back.
#include <dirent.h>
#include <gtest/gtest.h>

#include <fstream>
#include <map>
#include <string>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/time/clock.h"
#include "tests/support/server_fixture.h"

namespace ranker {
namespace {

using ::ranker::testing::BinaryPath;
using ::ranker::testing::RunningServer;
using ::ranker::testing::RunStoreTool;
using ::ranker::testing::Subprocess;
using ::ranker::testing::TempDir;

std::string ThreadName(pid_t pid, int id) {
  std::ifstream comm("/proc/" + std::to_string(pid) + "/task/" + std::to_string(id) + "/comm");
  std::string name;
  std::getline(comm, name);
  return name;
}

std::vector<int> ThreadIds(pid_t pid) {
  std::vector<int> ids;
  DIR* dir = opendir(("/proc/" + std::to_string(pid) + "/task").c_str());
  if (dir == nullptr) return ids;
  while (dirent* entry = readdir(dir)) {
    int id = 0;
    if (absl::SimpleAtoi(entry->d_name, &id)) ids.push_back(id);
  }
  closedir(dir);
  return ids;
}

std::unique_ptr<Subprocess> StartBench(const RunningServer& server,
                                       std::vector<std::string> flags) {
  std::vector<std::string> argv = {BinaryPath("client/ranker-client"),
                                   "bench",
                                   "--target=" + server.target(),
                                   "--duration=14s",
                                   "--warmup=0s",
                                   "--progress=false"};
  argv.insert(argv.end(), flags.begin(), flags.end());
  return std::make_unique<Subprocess>(argv);
}

TEST(ServingThreadsTest, NoThreadIsCreatedUnderSteadyLoad) {
  TempDir dir;
  const std::string store = dir.Sub("store");
  RunStoreTool({"demo", "--store=" + store, "--users=2000", "--items=5000", "--d=16", "--hidden=16",
                "--ratio=4"});
  RunningServer server(store, {"--retrieve_n=100"});
  ASSERT_TRUE(server.ok());
  // Three kinds of calls at once: Rank over 100 candidates (run on gRPC's callback threads),
  // Rank over the whole catalogue (on the Rank workers), and the health check.
  std::vector<std::unique_ptr<Subprocess>> loads;
  loads.push_back(
      StartBench(server, {"--rpc=rank", "--concurrency=4", "--candidates_per_request=100"}));
  loads.push_back(
      StartBench(server, {"--rpc=rank", "--concurrency=2", "--candidates_per_request=0"}));
  loads.push_back(StartBench(server, {"--rpc=empty", "--concurrency=2"}));

  absl::SleepFor(absl::Seconds(2));  // warm-up: pools reach their size
  std::map<int, std::string> seen;   // thread id -> name
  size_t most_alive = 0;
  const absl::Time end = absl::Now() + absl::Seconds(10);
  while (absl::Now() < end) {
    const std::vector<int> alive = ThreadIds(server.process().pid());
    most_alive = std::max(most_alive, alive.size());
    for (int id : alive) {
      if (!seen.count(id)) seen[id] = ThreadName(server.process().pid(), id);
    }
    absl::SleepFor(absl::Milliseconds(2));
  }
  for (auto& load : loads) {
    EXPECT_EQ(load->Wait(absl::Seconds(60)), 0) << load->Stdout() << load->Stderr();
  }
  // A few threads may come and go for reasons of their own (RocksDB, a reload poll).
  std::string names;
  for (const auto& [id, name] : seen) names += " " + std::to_string(id) + ":" + name;
  EXPECT_LE(seen.size(), most_alive + 3) << seen.size() << " thread ids seen over 10 s, at most "
                                         << most_alive << " alive at once:" << names;
  EXPECT_GT(most_alive, 2u);
}

}  // namespace
}  // namespace ranker
