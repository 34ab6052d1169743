// The command-line tools as users run them: output, errors and exit codes.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <regex>
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "tests/support/server_fixture.h"
#include "tests/support/store_damage.h"

namespace ranker {
namespace {

using ::ranker::testing::BinaryPath;
using ::ranker::testing::RunCommand;
using ::ranker::testing::RunningServer;
using ::ranker::testing::RunStoreTool;
using ::ranker::testing::TempDir;

int Store(std::vector<std::string> args, std::string* out, std::string* err) {
  args.insert(args.begin(), BinaryPath("model_store/ranker-store"));
  return RunCommand(args, out, err);
}

int Client(std::vector<std::string> args, std::string* out, std::string* err) {
  args.insert(args.begin(), BinaryPath("client/ranker-client"));
  return RunCommand(args, out, err);
}

TEST(StoreCliTest, MissingAndForeignDirectoriesGiveClearErrors) {
  TempDir dir;
  std::string out, err;
  EXPECT_EQ(Store({"list", "--store=" + dir.Sub("nope")}, &out, &err), 1);
  EXPECT_NE(err.find("does not exist"), std::string::npos) << err;
  std::filesystem::create_directories(dir.Sub("docs"));
  std::ofstream(dir.Sub("docs/readme.txt")) << "not a store";
  EXPECT_EQ(Store({"list", "--store=" + dir.Sub("docs")}, &out, &err), 1);
  EXPECT_NE(err.find("not a ranker store"), std::string::npos) << err;
  EXPECT_EQ(Store({"demo", "--store=" + dir.Sub("docs")}, &out, &err), 1);
  EXPECT_EQ(Store({"frobnicate"}, &out, &err), 2);
  EXPECT_NE(err.find("unknown command"), std::string::npos);
  EXPECT_EQ(Store({"inspect", "--store=" + dir.Sub("docs")}, &out, &err), 2);
}

TEST(StoreCliTest, DemoListInspectVerifyGc) {
  TempDir dir;
  const std::string store = "--store=" + dir.Sub("s");
  std::string out, err;
  for (int seed = 1; seed <= 3; ++seed) {
    ASSERT_EQ(Store({"demo", store, "--users=1000", "--items=640", "--d=16", "--ratio=8",
                     "--seed=" + std::to_string(seed)},
                    &out, &err),
              0)
        << err;
  }
  EXPECT_NE(out.find("published version 3"), std::string::npos) << out;
  EXPECT_NE(out.find("embedding ratio 7.98x"), std::string::npos) << out;
  ASSERT_EQ(Store({"list", store}, &out, &err), 0) << err;
  EXPECT_NE(out.find("3 "), std::string::npos);
  EXPECT_NE(out.find("(latest)"), std::string::npos);
  ASSERT_EQ(Store({"inspect", "2", store}, &out, &err), 0) << err;
  EXPECT_NE(out.find("table user  kind=memcom n=1000 m="), std::string::npos) << out;
  EXPECT_NE(out.find("tensor user/weight"), std::string::npos) << out;
  ASSERT_EQ(Store({"verify", "3", store}, &out, &err), 0) << err;
  EXPECT_NE(out.find("version 3 OK"), std::string::npos) << out;
  EXPECT_EQ(Store({"verify", "7", store}, &out, &err), 1);
  EXPECT_NE(err.find("version 7 is not in the store"), std::string::npos) << err;

  ASSERT_TRUE(
      testing::DamageChunk(dir.Sub("s"), 2, "item/weight", 0, testing::ChunkDamage::kFlipByte)
          .ok());
  EXPECT_EQ(Store({"verify", "2", store}, &out, &err), 1);
  EXPECT_NE(err.find("version 2 tensor 'item/weight': checksum mismatch"), std::string::npos)
      << err;

  ASSERT_EQ(Store({"gc", "--keep=1", store}, &out, &err), 0) << err;
  EXPECT_NE(out.find("removed versions 1, 2"), std::string::npos) << out;
  ASSERT_EQ(Store({"list", store}, &out, &err), 0);
  EXPECT_EQ(out.find("\n1 "), std::string::npos) << out;
}

TEST(ClientCliTest, RankInfoHealthAndErrors) {
  TempDir dir;
  RunStoreTool({"demo", "--store=" + dir.Sub("s"), "--users=200", "--items=100", "--d=8",
                "--hidden=8", "--ratio=4"});
  RunningServer server(dir.Sub("s"), {"--max_k=20"});
  ASSERT_TRUE(server.ok());
  const std::string target = "--target=" + server.target();
  std::string out, err;

  ASSERT_EQ(Client({"rank", target, "--user=42", "--k=10"}, &out, &err), 0) << err;
  EXPECT_NE(out.find("user 42: top 10 of the catalogue, model version 1"), std::string::npos)
      << out;
  // Ten rows, scores descending.
  std::vector<float> scores;
  std::regex row(R"(^\s+(\d+)\s+(\d+)\s+(-?[0-9.]+)$)");
  for (absl::string_view line : absl::StrSplit(out, '\n')) {
    std::cmatch m;
    const std::string l(line);
    if (std::regex_match(l.c_str(), m, row)) scores.push_back(std::stof(m[3]));
  }
  ASSERT_EQ(scores.size(), 10u) << out;
  EXPECT_TRUE(std::is_sorted(scores.rbegin(), scores.rend())) << out;

  EXPECT_NE(out.find("one stage: the scorer ranked all 100 items"), std::string::npos) << out;
  ASSERT_EQ(Client({"rank", target, "--user=42", "--k=5", "--retrieve_n=30"}, &out, &err), 0)
      << err;
  EXPECT_NE(out.find("two stages: retrieval scored 100 items by the dot product, kept 30 (N = "
                     "30); the scorer ranked those"),
            std::string::npos)
      << out;

  ASSERT_EQ(
      Client({"rank", target, "--user=1", "--k=2", "--candidates=5,6,7", "--json"}, &out, &err), 0);
  EXPECT_NE(out.find("\"model_version\": \"1\""), std::string::npos) << out;

  ASSERT_EQ(Client({"info", target}, &out, &err), 0) << err;
  EXPECT_NE(out.find("model version 1"), std::string::npos) << out;
  EXPECT_NE(out.find("memcom"), std::string::npos);
  EXPECT_NE(out.find("uncompressed-equivalent bytes"), std::string::npos);
  EXPECT_NE(out.find("embedding compression ratio:   3.97x"), std::string::npos) << out;

  ASSERT_EQ(Client({"health", target}, &out, &err), 0);
  EXPECT_EQ(out, "SERVING\n");

  EXPECT_EQ(Client({"rank", target, "--k=21"}, &out, &err), 1);
  EXPECT_NE(err.find("INVALID_ARGUMENT"), std::string::npos) << err;
  EXPECT_NE(err.find("max_k = 20"), std::string::npos) << err;
  EXPECT_EQ(Client({"info", target, "--model_version=5"}, &out, &err), 1);
  EXPECT_NE(err.find("NOT_FOUND"), std::string::npos) << err;
  EXPECT_EQ(Client({"rank", target, "--candidates=1,x"}, &out, &err), 2);
  EXPECT_EQ(Client({"health", "--target=127.0.0.1:1", "--timeout=1s"}, &out, &err), 1);
  EXPECT_NE(err.find("UNAVAILABLE"), std::string::npos) << err;
  // A user-ID model refuses a history.
  EXPECT_EQ(Client({"rank", target, "--history=1,2"}, &out, &err), 1);
  EXPECT_NE(err.find("history_ids need a history model"), std::string::npos) << err;
}

// The ids of a ranking printed by `ranker-client rank`, best first.
std::vector<uint64_t> RankedIds(const std::string& out) {
  std::vector<uint64_t> ids;
  std::regex row(R"(^\s+(\d+)\s+(\d+)\s+(-?[0-9.]+)$)");
  for (absl::string_view line : absl::StrSplit(out, '\n')) {
    std::cmatch m;
    const std::string l(line);
    if (std::regex_match(l.c_str(), m, row)) ids.push_back(std::stoull(m[2]));
  }
  return ids;
}

// An int8-row model through the tools: demo, inspect, verify, a real server's info and Rank.
TEST(CliTest, Int8RowsFromDemoToRank) {
  TempDir dir;
  const std::string store = "--store=" + dir.Sub("s");
  std::string out, err;
  EXPECT_EQ(Store({"demo", store, "--row_dtype=fp16"}, &out, &err), 2);  // a usage error
  EXPECT_NE(err.find("unknown row storage 'fp16' (expected float32, int8, pq<M>x<bits>"),
            std::string::npos)
      << err;
  ASSERT_EQ(Store({"demo", store, "--user_mode=history", "--users=300", "--items=2000", "--d=32",
                   "--kind=full", "--hidden=8", "--row_dtype=int8"},
                  &out, &err),
            0)
      << err;
  ASSERT_EQ(Store({"inspect", "1", store}, &out, &err), 0) << err;
  EXPECT_NE(out.find("table item  kind=full   n=2000 m=2000 d=32 hash=identity rows=int8"),
            std::string::npos)
      << out;
  EXPECT_NE(out.find("tensor item/embeddings_scale"), std::string::npos) << out;
  ASSERT_EQ(Store({"verify", "1", store}, &out, &err), 0) << err;

  RunningServer server(dir.Sub("s"), {});
  ASSERT_TRUE(server.ok());
  const std::string target = "--target=" + server.target();
  ASSERT_EQ(Client({"info", target}, &out, &err), 0) << err;
  // 2000 x 32 int8 levels and 2000 scales: 72,000 bytes against 256,000 as float32 = 3.56x.
  EXPECT_NE(out.find("item    full        int8"), std::string::npos) << out;
  EXPECT_NE(out.find("3.56x"), std::string::npos) << out;
  ASSERT_EQ(Client({"rank", target, "--history=5,17,99", "--k=5"}, &out, &err), 0) << err;
  EXPECT_NE(out.find("pooled from 3 history items"), std::string::npos) << out;
}

// A pq-row model through the tools: demo, inspect, verify, a real server's info and Rank.
TEST(CliTest, PqRowsFromDemoToRank) {
  TempDir dir;
  const std::string store = "--store=" + dir.Sub("s");
  std::string out, err;
  // 5 sub-vectors do not divide d = 32.
  EXPECT_EQ(Store({"demo", store, "--row_dtype=pq5x8", "--d=32"}, &out, &err), 1);
  EXPECT_NE(err.find("pq_subvectors=5 pq_bits=8 for d=32"), std::string::npos) << err;
  ASSERT_EQ(Store({"demo", store, "--user_mode=history", "--users=300", "--items=2000", "--d=32",
                   "--kind=full", "--hidden=8", "--row_dtype=pq8x8"},
                  &out, &err),
            0)
      << err;
  ASSERT_EQ(Store({"inspect", "1", store}, &out, &err), 0) << err;
  EXPECT_NE(out.find("table item  kind=full   n=2000 m=2000 d=32 hash=identity rows=pq8x8"),
            std::string::npos)
      << out;
  EXPECT_NE(out.find("tensor item/embeddings_codebook"), std::string::npos) << out;
  ASSERT_EQ(Store({"verify", "1", store}, &out, &err), 0) << err;

  RunningServer server(dir.Sub("s"), {});
  ASSERT_TRUE(server.ok());
  const std::string target = "--target=" + server.target();
  ASSERT_EQ(Client({"info", target}, &out, &err), 0) << err;
  // 2000 x 8 one-byte codes and 8 x 256 centroids of 4 floats: 48,768 bytes against 256,000
  // as float32 = 5.25x.
  EXPECT_NE(out.find("item    full        pq8x8"), std::string::npos) << out;
  EXPECT_NE(out.find("5.25x"), std::string::npos) << out;
  ASSERT_EQ(Client({"rank", target, "--history=5,17,99", "--k=5"}, &out, &err), 0) << err;
  EXPECT_NE(out.find("pooled from 3 history items"), std::string::npos) << out;
  EXPECT_EQ(RankedIds(out).size(), 5u) << out;
}

TEST(CliTest, HistoryModelRanksFromTheRequestHistoryAndHidesSeenItems) {
  TempDir dir;
  RunStoreTool({"demo", "--store=" + dir.Sub("s"), "--user_mode=history", "--users=500",
                "--items=100", "--d=8", "--hidden=8", "--ratio=4"});
  RunningServer server(dir.Sub("s"), {"--poll_interval=200ms"});
  ASSERT_TRUE(server.ok());
  const std::string target = "--target=" + server.target();
  std::string out, err;

  ASSERT_EQ(Client({"info", target}, &out, &err), 0) << err;
  EXPECT_NE(out.find("user mode history"), std::string::npos) << out;
  EXPECT_NE(out.find("item_in"), std::string::npos) << out;
  EXPECT_NE(out.find("vs the full user-ID model of the same data"), std::string::npos) << out;

  // The demo stored histories for its users: rank --user pools the stored one and hides it.
  ASSERT_EQ(Store({"history", "show", "42", "--store=" + dir.Sub("s")}, &out, &err), 0) << err;
  std::smatch shown;
  ASSERT_TRUE(
      std::regex_search(out, shown, std::regex("user 42: (\\d+) items, oldest first\n(.*)")))
      << out;
  const std::string stored_count = shown[1].str();
  std::vector<uint64_t> stored;
  for (absl::string_view id : absl::StrSplit(shown[2].str(), ',')) {
    stored.push_back(std::stoull(std::string(id)));
  }
  ASSERT_EQ(Client({"rank", target, "--user=42", "--k=100"}, &out, &err), 0) << err;
  EXPECT_NE(out.find(absl::StrCat("pooled from ", stored_count, " history items (stored)")),
            std::string::npos)
      << out;
  std::vector<uint64_t> ranked = RankedIds(out);
  for (uint64_t seen : stored) EXPECT_EQ(std::count(ranked.begin(), ranked.end(), seen), 0);
  EXPECT_EQ(ranked.size(), 100 - stored.size()) << out;

  // No history: popularity (the demo's falls with the item id), said so.
  ASSERT_EQ(Client({"rank", target, "--user=100000", "--k=3"}, &out, &err), 0) << err;
  EXPECT_NE(out.find("ranked by popularity"), std::string::npos) << out;
  EXPECT_EQ(RankedIds(out), (std::vector<uint64_t>{0, 1, 2})) << out;

  // A history imported while the server runs is used within its poll interval.
  std::ofstream(dir.Sub("log.csv")) << "user,item,rating,timestamp\n100000,50,5,2\n100000,40,5,1\n";
  ASSERT_EQ(Store({"history", "import", dir.Sub("log.csv"), "--store=" + dir.Sub("s")}, &out, &err),
            0)
      << err;
  EXPECT_NE(out.find("appended 2 interactions to the histories of 1 users (1 new)"),
            std::string::npos)
      << out;
  ASSERT_EQ(Store({"history", "show", "100000", "--store=" + dir.Sub("s")}, &out, &err), 0);
  EXPECT_NE(out.find("user 100000: 2 items, oldest first\n40,50"), std::string::npos) << out;
  bool stored_seen = false;
  for (int attempt = 0; attempt < 100 && !stored_seen; ++attempt) {
    ASSERT_EQ(Client({"rank", target, "--user=100000", "--k=3"}, &out, &err), 0) << err;
    stored_seen = out.find("pooled from 2 history items (stored)") != std::string::npos;
    if (!stored_seen) std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  EXPECT_TRUE(stored_seen) << out;

  // A history: pooled, and its items (and the excluded ones) are not returned.
  ASSERT_EQ(
      Client({"rank", target, "--k=100", "--history=5,6,7,999999", "--exclude=8"}, &out, &err), 0)
      << err;
  EXPECT_NE(out.find("pooled from 3 history items (from the request), 1 unknown ids ignored"),
            std::string::npos)
      << out;
  std::vector<uint64_t> ids = RankedIds(out);
  EXPECT_EQ(ids.size(), 96u) << out;
  for (uint64_t hidden : {5, 6, 7, 8}) {
    EXPECT_EQ(std::count(ids.begin(), ids.end(), hidden), 0) << hidden;
  }
  ASSERT_EQ(Client({"rank", target, "--k=100", "--history=5,6,7", "--include_seen"}, &out, &err), 0)
      << err;
  EXPECT_EQ(RankedIds(out).size(), 100u) << out;
}

}  // namespace
}  // namespace ranker
