// Export to and pull from a snapshot repository, on real RocksDB stores: the pulled version
// loads and ranks as the original, histories travel with it, and damaged repositories are
// refused while the receiving store keeps what it had.
#include "model_store/snapshot_repository.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "common/files.h"
#include "model/demo_model.h"
#include "model_store/cli/repository_commands.h"
#include "model_store/history_store.h"
#include "model_store/model_loader.h"
#include "model_store/snapshot_store.h"
#include "tests/support/test_util.h"

namespace ranker {
namespace {

namespace fs = std::filesystem;
using ::ranker::testing::TempDir;
using ::testing::HasSubstr;

class SnapshotRepositoryTest : public ::testing::Test {
 protected:
  // Publishes a demo model (seeded by `seed`) into the source store; returns its version.
  uint64_t Publish(uint64_t seed) {
    auto store = SnapshotStore::OpenPrimary(source_, {.create_if_missing = true});
    EXPECT_TRUE(store.ok()) << store.status();
    DemoModelOptions options;
    options.users = 300;
    options.items = 200;
    options.d = 8;
    options.hidden = {8};
    options.ratio = 2;
    options.seed = seed;
    Snapshot snapshot = *MakeDemoSnapshot(options);
    PublishOptions publish;
    publish.chunk_bytes = 1024;  // several chunks per tensor
    absl::StatusOr<uint64_t> version = (*store)->Publish(snapshot, publish);
    EXPECT_TRUE(version.ok()) << version.status();
    return version.value_or(0);
  }

  std::optional<uint64_t> Latest(const std::string& path) {
    auto store = SnapshotStore::OpenSecondary(path);
    EXPECT_TRUE(store.ok()) << store.status();
    return *(*store)->Latest();
  }

  // The top 5 of the whole catalogue for a few users, from `path`'s latest version.
  std::vector<std::vector<uint64_t>> Rankings(const std::string& path) {
    auto store = SnapshotStore::OpenSecondary(path);
    EXPECT_TRUE(store.ok()) << store.status();
    auto model = LoadModel(**store, *(*store)->Latest().value());
    EXPECT_TRUE(model.ok()) << model.status();
    std::vector<std::vector<uint64_t>> rankings;
    RankScratch scratch;
    RankResult result;
    for (uint64_t user : {0, 7, 299}) {
      RankQuery query;
      query.user_id = user;
      query.k = 5;
      (*model)->Rank(query, &scratch, &result);
      std::vector<uint64_t> ids;
      for (const ScoredId& item : result.items) ids.push_back(item.id);
      rankings.push_back(ids);
    }
    return rankings;
  }

  TempDir dir_;
  const std::string source_ = dir_.Sub("source");
  const std::string repo_ = dir_.Sub("repo");
  const std::string replica_ = dir_.Sub("replica");
};

TEST_F(SnapshotRepositoryTest, PulledVersionRanksAsTheOriginalAndHistoriesTravel) {
  const uint64_t version = Publish(1);
  {
    auto histories = HistoryStore::OpenWriter(source_);
    ASSERT_TRUE(histories.ok()) << histories.status();
    ASSERT_TRUE((*histories)->Append({{7, {1, 2, 3}}, {42, {9}}}, 10).ok());
  }
  absl::StatusOr<ExportResult> exported = ExportVersion(source_, 0, repo_, /*with_histories=*/true);
  ASSERT_TRUE(exported.ok()) << exported.status();
  EXPECT_EQ(exported->version, version);
  EXPECT_EQ(exported->histories, 2u);
  EXPECT_TRUE(exported->moved_latest);
  EXPECT_GT(exported->bytes, 0u);
  EXPECT_EQ(*RepositoryLatest(repo_), version);
  for (const char* file : {"CONTENTS", "manifest.sst", "tensors.sst", "history.sst"}) {
    EXPECT_TRUE(fs::exists(fs::path(repo_) / std::to_string(version) / file)) << file;
  }

  absl::StatusOr<PullResult> pulled = PullLatest(repo_, replica_);
  ASSERT_TRUE(pulled.ok()) << pulled.status();
  EXPECT_TRUE(pulled->ingested);
  EXPECT_EQ(pulled->version, version);
  EXPECT_EQ(pulled->bytes, exported->bytes);
  EXPECT_EQ(Latest(replica_), version);
  EXPECT_EQ(Rankings(replica_), Rankings(source_));
  auto histories = HistoryStore::OpenReader(replica_);
  ASSERT_TRUE(histories.ok()) << histories.status();
  std::vector<uint64_t> items;
  ASSERT_TRUE((*histories)->Read(7, &items).ok());
  EXPECT_EQ(items, (std::vector<uint64_t>{1, 2, 3}));
  // No staging directory is left next to the store.
  for (const auto& entry : fs::directory_iterator(dir_.path())) {
    EXPECT_THAT(entry.path().filename().string(), ::testing::Not(HasSubstr(".pull-")));
  }

  // Pulling again changes nothing, not even the store's MANIFEST (servers reading the store
  // open it afresh when the primary reopens); a newer export is pulled on top.
  const auto current = [&] {
    std::ifstream in(fs::path(replica_) / "CURRENT");
    std::string manifest;
    std::getline(in, manifest);
    return manifest;
  };
  const std::string manifest_before = current();
  pulled = PullLatest(repo_, replica_);
  ASSERT_TRUE(pulled.ok()) << pulled.status();
  EXPECT_FALSE(pulled->ingested);
  EXPECT_EQ(current(), manifest_before);
  const uint64_t second = Publish(2);
  ASSERT_TRUE(ExportVersion(source_, second, repo_).ok());
  pulled = PullLatest(repo_, replica_);
  ASSERT_TRUE(pulled.ok()) << pulled.status();
  EXPECT_TRUE(pulled->ingested);
  EXPECT_EQ(Latest(replica_), second);
  EXPECT_EQ(Rankings(replica_), Rankings(source_));
}

TEST_F(SnapshotRepositoryTest, PullKeepsOnlyTheNewestVersionsWhenAsked) {
  std::vector<uint64_t> published;
  uint64_t version_bytes = 0;
  for (uint64_t seed = 1; seed <= 4; ++seed) {
    published.push_back(Publish(seed));
    ASSERT_TRUE(ExportVersion(source_, published.back(), repo_).ok());
    absl::StatusOr<PullResult> pulled = PullLatest(repo_, replica_, /*keep_versions=*/2);
    ASSERT_TRUE(pulled.ok()) << pulled.status();
    EXPECT_EQ(pulled->removed.size(), seed > 2 ? 1u : 0u) << seed;
    version_bytes = std::max(version_bytes, pulled->bytes);
  }
  // The dropped versions' tensor files (each version's largest) are gone from disk, not only
  // from the index.
  int tensor_files = 0;
  for (const auto& entry : fs::directory_iterator(replica_)) {
    tensor_files += entry.path().extension() == ".sst" && entry.file_size() > version_bytes / 2;
  }
  EXPECT_EQ(tensor_files, 2);
  auto store = SnapshotStore::OpenSecondary(replica_);
  ASSERT_TRUE(store.ok()) << store.status();
  EXPECT_EQ(*(*store)->ListVersions(), (std::vector<uint64_t>{published[2], published[3]}));
  EXPECT_EQ(Rankings(replica_), Rankings(source_));

  // keep_versions = 0 keeps everything pulled.
  const uint64_t fifth = Publish(5);
  ASSERT_TRUE(ExportVersion(source_, fifth, repo_).ok());
  absl::StatusOr<PullResult> pulled = PullLatest(repo_, replica_, /*keep_versions=*/0);
  ASSERT_TRUE(pulled.ok()) << pulled.status();
  EXPECT_TRUE(pulled->removed.empty());
  store = SnapshotStore::OpenSecondary(replica_);
  ASSERT_TRUE(store.ok()) << store.status();
  EXPECT_EQ((*store)->ListVersions()->size(), 3u);

  // A pull that finds nothing new still drops what exceeds keep_versions.
  pulled = PullLatest(repo_, replica_, /*keep_versions=*/1);
  ASSERT_TRUE(pulled.ok()) << pulled.status();
  EXPECT_FALSE(pulled->ingested);
  EXPECT_EQ(pulled->removed.size(), 2u);
  store = SnapshotStore::OpenSecondary(replica_);
  ASSERT_TRUE(store.ok()) << store.status();
  EXPECT_EQ(*(*store)->ListVersions(), (std::vector<uint64_t>{fifth}));
  EXPECT_EQ(Rankings(replica_), Rankings(source_));
}

TEST_F(SnapshotRepositoryTest, ExportsAreImmutableAndLatestNeverMovesBack) {
  const uint64_t first = Publish(1);
  const uint64_t second = Publish(2);
  ASSERT_TRUE(ExportVersion(source_, second, repo_).ok());
  EXPECT_EQ(ExportVersion(source_, second, repo_).status().code(),
            absl::StatusCode::kAlreadyExists);
  absl::StatusOr<ExportResult> older = ExportVersion(source_, first, repo_);
  ASSERT_TRUE(older.ok()) << older.status();
  EXPECT_FALSE(older->moved_latest);
  EXPECT_EQ(*RepositoryLatest(repo_), second);
  EXPECT_EQ(ExportVersion(source_, 99, repo_).status().code(), absl::StatusCode::kNotFound);
}

// Each way a repository can be damaged: refused with a message naming the problem, and the
// replica keeps serving the version it had.
TEST_F(SnapshotRepositoryTest, DamagedRepositoryIsRefusedAndTheStoreKeepsItsVersion) {
  EXPECT_EQ(PullLatest(repo_, replica_).status().code(), absl::StatusCode::kNotFound);
  const uint64_t good = Publish(1);
  ASSERT_TRUE(ExportVersion(source_, good, repo_).ok());
  ASSERT_TRUE(PullLatest(repo_, replica_).ok());
  const std::vector<std::vector<uint64_t>> served = Rankings(replica_);
  const uint64_t next = Publish(2);
  ASSERT_TRUE(ExportVersion(source_, next, repo_).ok());
  const fs::path version_dir = fs::path(repo_) / std::to_string(next);
  const fs::path tensors = version_dir / "tensors.sst";
  const std::string original = *ReadFileToString(tensors.string(), "tensors.sst");
  const auto write_tensors = [&](const std::string& bytes) {
    std::ofstream(tensors, std::ios::binary | std::ios::trunc) << bytes;
  };
  struct Damage {
    std::string name;
    std::function<void()> apply;
    std::string message;
  };
  std::string flipped = original;
  flipped[flipped.size() / 2] ^= 0x40;
  const std::vector<Damage> damages = {
      {"a flipped byte", [&] { write_tensors(flipped); }, "tensors.sst' is damaged"},
      {"a truncated file", [&] { write_tensors(original.substr(0, original.size() / 3)); },
       "tensors.sst' is damaged"},
      {"a missing file", [&] { fs::remove(tensors); }, "tensors.sst' is missing"},
      {"a malformed CONTENTS",
       [&] { std::ofstream(version_dir / "CONTENTS", std::ios::trunc) << "hello\n"; },
       "CONTENTS' is malformed"},
      {"a LATEST naming a version not there",
       [&] { std::ofstream(fs::path(repo_) / "LATEST", std::ios::trunc) << "77\n"; },
       "names version 77"},
      {"a LATEST that is not a number",
       [&] { std::ofstream(fs::path(repo_) / "LATEST", std::ios::trunc) << "x\n"; },
       "does not hold a version"},
  };
  for (const Damage& damage : damages) {
    SCOPED_TRACE(damage.name);
    damage.apply();
    const absl::Status status = PullLatest(repo_, replica_).status();
    EXPECT_EQ(status.code(), absl::StatusCode::kDataLoss) << status;
    EXPECT_THAT(std::string(status.message()), HasSubstr(damage.message));
    EXPECT_EQ(Latest(replica_), good);
    EXPECT_EQ(Rankings(replica_), served);
  }
}

TEST(FollowWaitTest, SpreadsTheIntervalTenPercentEitherSide) {
  const absl::Duration follow = absl::Seconds(10);
  EXPECT_EQ(FollowWait(follow, 0.0), absl::Seconds(9));
  EXPECT_EQ(FollowWait(follow, 0.5), absl::Seconds(10));
  EXPECT_LT(FollowWait(follow, 0.999999), absl::Seconds(11));
  EXPECT_GT(FollowWait(follow, 0.999999), absl::Milliseconds(10999));
}

}  // namespace
}  // namespace ranker

namespace ranker {
namespace {

TEST_F(SnapshotRepositoryTest, VersionsShipWithoutHistoriesUnlessAsked) {
  Publish(1);
  {
    auto histories = HistoryStore::OpenWriter(source_);
    ASSERT_TRUE(histories.ok()) << histories.status();
    ASSERT_TRUE((*histories)->Append({{7, {1, 2, 3}}}, 10).ok());
  }
  absl::StatusOr<ExportResult> exported = ExportVersion(source_, 0, repo_);
  ASSERT_TRUE(exported.ok()) << exported.status();
  EXPECT_EQ(exported->histories, 0u);
  EXPECT_FALSE(std::filesystem::exists(std::filesystem::path(repo_) /
                                       std::to_string(exported->version) / "history.sst"));
  ASSERT_TRUE(PullLatest(repo_, replica_).ok());
  auto histories = HistoryStore::OpenReader(replica_);
  std::vector<uint64_t> items;
  if (histories.ok()) {
    ASSERT_TRUE((*histories)->Read(7, &items).ok());
  }
  EXPECT_TRUE(items.empty());
}

}  // namespace
}  // namespace ranker
