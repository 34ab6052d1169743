#include "server/model_manager.h"

#include <gtest/gtest.h>

#include "model/demo_model.h"
#include "tests/support/store_damage.h"
#include "tests/support/test_util.h"

namespace ranker {
namespace {

using ::ranker::testing::ChunkDamage;
using ::ranker::testing::DamageChunk;
using ::ranker::testing::TempDir;

class ModelManagerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    StoreOptions create;
    create.create_if_missing = true;
    ASSERT_TRUE(SnapshotStore::OpenPrimary(path_, create).ok());  // an empty store
  }

  // Publishes a small model; the primary is closed again so tests can damage chunks.
  uint64_t Publish(uint64_t seed) {
    auto store = SnapshotStore::OpenPrimary(path_);
    EXPECT_TRUE(store.ok()) << store.status();
    DemoModelOptions options;
    options.users = 50;
    options.items = 40;
    options.d = 8;
    options.hidden = {8};
    options.ratio = 2;
    options.seed = seed;
    Snapshot snapshot = *MakeDemoSnapshot(options);
    return *(*store)->Publish(snapshot);
  }

  std::unique_ptr<ModelManager> Manager(ModelManagerOptions options = {}) {
    auto store = SnapshotStore::OpenSecondary(path_);
    EXPECT_TRUE(store.ok()) << store.status();
    return std::make_unique<ModelManager>(*std::move(store), options);
  }

  TempDir dir_;
  const std::string path_ = dir_.Sub("store");
};

TEST_F(ModelManagerTest, EmptyStoreServesNothingUntilAVersionAppears) {
  auto manager = Manager();
  EXPECT_EQ(manager->Poll().result, ReloadEvent::Result::kNoChange);
  EXPECT_EQ(manager->Current(), nullptr);
  EXPECT_EQ(manager->Get(0).status().code(), absl::StatusCode::kUnavailable);
  Publish(1);
  const ReloadEvent event = manager->Poll();
  EXPECT_EQ(event.result, ReloadEvent::Result::kLoaded);
  EXPECT_EQ(event.version, 1u);
  ASSERT_NE(manager->Current(), nullptr);
  EXPECT_EQ(manager->Current()->version(), 1u);
}

TEST_F(ModelManagerTest, CorruptVersionIsRefusedCountedOnceAndOldModelKeepsServing) {
  Publish(1);
  auto manager = Manager();
  ASSERT_EQ(manager->Poll().result, ReloadEvent::Result::kLoaded);
  std::vector<ReloadEvent> events;
  manager->SetListener([&](const ReloadEvent& e) { events.push_back(e); });

  const uint64_t bad = Publish(2);
  ASSERT_TRUE(DamageChunk(path_, bad, "mlp/0/weight", 0, ChunkDamage::kFlipByte).ok());
  ReloadEvent event = manager->Poll();
  EXPECT_EQ(event.result, ReloadEvent::Result::kFailed);
  EXPECT_EQ(event.status.code(), absl::StatusCode::kDataLoss);
  EXPECT_NE(event.status.message().find("mlp/0/weight"), std::string::npos);
  EXPECT_EQ(manager->Current()->version(), 1u);
  // Not retried while it is still the latest.
  EXPECT_EQ(manager->Poll().result, ReloadEvent::Result::kNoChange);
  ASSERT_EQ(events.size(), 1u);

  Publish(3);
  EXPECT_EQ(manager->Poll().result, ReloadEvent::Result::kLoaded);
  EXPECT_EQ(manager->Current()->version(), 3u);
  EXPECT_EQ(events.size(), 2u);
}

TEST_F(ModelManagerTest, PinnedRequestKeepsItsModelAcrossASwapAndReaperFreesIt) {
  Publish(1);
  auto manager = Manager();
  manager->Poll();
  std::shared_ptr<const Model> pinned = manager->Current();
  Publish(2);
  ASSERT_EQ(manager->Poll().result, ReloadEvent::Result::kLoaded);
  EXPECT_EQ(manager->Current()->version(), 2u);
  EXPECT_EQ(pinned->version(), 1u);  // still usable
  RankScratch scratch;
  RankResult result;
  pinned->Rank(1, {}, 3, &scratch, &result);
  EXPECT_EQ(result.items.size(), 3u);
  EXPECT_EQ(manager->Get(1).status().code(), absl::StatusCode::kNotFound);
  const size_t destroyed = manager->reaper().destroyed_on_reaper_thread();
  EXPECT_EQ(destroyed, 0u);  // version 1 is alive while pinned
  pinned.reset();            // the last reference: destruction is handed to the reaper thread
  EXPECT_TRUE(manager->reaper().WaitForDestroyed(1, absl::Seconds(30)));
  EXPECT_EQ(manager->reaper().destroyed_inline(), 0u);
}

TEST_F(ModelManagerTest, KeepVersionsAllowsPinningOlderVersions) {
  Publish(1);
  ModelManagerOptions options;
  options.keep_versions = 2;
  auto manager = Manager(options);
  manager->Poll();
  Publish(2);
  manager->Poll();
  Publish(3);
  manager->Poll();
  std::vector<uint64_t> loaded;
  for (const LoadedVersion& v : manager->Loaded()) loaded.push_back(v.version);
  EXPECT_EQ(loaded, (std::vector<uint64_t>{2, 3}));
  EXPECT_EQ((*manager->Get(2))->version(), 2u);
  EXPECT_EQ((*manager->Get(0))->version(), 3u);
  EXPECT_EQ(manager->Get(1).status().code(), absl::StatusCode::kNotFound);
}

TEST_F(ModelManagerTest, ResourcePreservingDropsTheOldModelBeforeLoading) {
  Publish(1);
  ModelManagerOptions options;
  options.policy = ReloadPolicy::kResourcePreserving;
  auto manager = Manager(options);
  manager->Poll();
  const uint64_t bad = Publish(2);
  ASSERT_TRUE(DamageChunk(path_, bad, "user/shared", 0, ChunkDamage::kDelete).ok());
  std::vector<ReloadEvent> events;
  manager->SetListener([&](const ReloadEvent& e) { events.push_back(e); });
  const ReloadEvent last = manager->Poll();
  // The documented cost of this policy: version 1 was dropped before version 2 failed, so
  // the manager had to load version 1 again (requests got UNAVAILABLE meanwhile).
  ASSERT_EQ(events.size(), 2u);
  EXPECT_EQ(events[0].result, ReloadEvent::Result::kFailed);
  EXPECT_EQ(events[0].version, 2u);
  EXPECT_EQ(last.result, ReloadEvent::Result::kLoaded);
  EXPECT_EQ(last.version, 1u);
  EXPECT_EQ(manager->Current()->version(), 1u);
  Publish(3);
  EXPECT_EQ(manager->Poll().result, ReloadEvent::Result::kLoaded);
  EXPECT_EQ(manager->Current()->version(), 3u);
}

}  // namespace
}  // namespace ranker
