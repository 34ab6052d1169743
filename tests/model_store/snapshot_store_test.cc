#include "model_store/snapshot_store.h"

#include <gtest/gtest.h>

#include <cstring>
#include <filesystem>
#include <fstream>

#include "model/demo_model.h"
#include "model_store/model_loader.h"
#include "model_store/tensor_specs.h"
#include "rocksdb/db.h"
#include "tests/support/store_damage.h"
#include "tests/support/test_util.h"

namespace ranker {
namespace {

using ::ranker::testing::ChunkDamage;
using ::ranker::testing::DamageChunk;
using ::ranker::testing::TempDir;

Snapshot SmallSnapshot(uint64_t seed = 7, TableKind kind = snapshot::MEMCOM) {
  DemoModelOptions options;
  options.users = 300;
  options.items = 200;
  options.d = 8;
  options.kind = kind;
  options.ratio = 4;
  options.hidden = {16};
  options.sparse_item_ids = true;
  options.seed = seed;
  return *MakeDemoSnapshot(options);
}

std::unique_ptr<SnapshotStore> CreateStore(const std::string& path) {
  StoreOptions options;
  options.create_if_missing = true;
  auto store = SnapshotStore::OpenPrimary(path, options);
  EXPECT_TRUE(store.ok()) << store.status();
  return *std::move(store);
}

TEST(SnapshotStoreTest, PublishedTensorsReadBackBitForBit) {
  TempDir dir;
  auto store = CreateStore(dir.Sub("store"));
  Snapshot snapshot = SmallSnapshot();
  PublishOptions publish;
  publish.chunk_bytes = 1000;  // several chunks per tensor, the last one short
  auto version = store->Publish(snapshot, publish);
  ASSERT_TRUE(version.ok()) << version.status();
  EXPECT_EQ(*version, 1u);

  auto read = ReadSnapshot(*store, 1);
  ASSERT_TRUE(read.ok()) << read.status();
  ASSERT_EQ(read->tensors.size(), snapshot.tensors.size());
  for (const auto& [name, tensor] : snapshot.tensors) {
    const Tensor& back = read->tensors.at(name);
    EXPECT_EQ(back.dtype, tensor.dtype) << name;
    EXPECT_EQ(back.shape, tensor.shape) << name;
    ASSERT_EQ(back.bytes.size(), tensor.bytes.size()) << name;
    EXPECT_EQ(std::memcmp(back.bytes.data(), tensor.bytes.data(), tensor.bytes.size()), 0) << name;
  }
  const TensorSpec& spec = read->manifest.tensors(0);
  EXPECT_EQ(spec.chunk_count(), (spec.byte_size() + 999) / 1000);
  EXPECT_EQ(read->manifest.producer().at("tool"), "ranker-store demo");
}

TEST(SnapshotStoreTest, VersionsSortNumericallyAndMustIncrease) {
  TempDir dir;
  auto store = CreateStore(dir.Sub("store"));
  for (uint64_t v : {1u, 2u, 255u, 256u, 70000u}) {
    Snapshot snapshot = SmallSnapshot(v);
    PublishOptions publish;
    publish.version = v;
    ASSERT_TRUE(store->Publish(snapshot, publish).ok());
  }
  EXPECT_EQ(*store->ListVersions(), (std::vector<uint64_t>{1, 2, 255, 256, 70000}));
  EXPECT_EQ(**store->Latest(), 70000u);
  Snapshot older = SmallSnapshot();
  PublishOptions publish;
  publish.version = 300;
  EXPECT_EQ(store->Publish(older, publish).status().code(), absl::StatusCode::kFailedPrecondition);
  Snapshot next = SmallSnapshot();
  EXPECT_EQ(*store->Publish(next), 70001u);
}

TEST(SnapshotStoreTest, LatestMovesOnlyWithTheFinalBatch) {
  TempDir dir;
  const std::string path = dir.Sub("store");
  auto store = CreateStore(path);
  Snapshot first = SmallSnapshot(1);
  ASSERT_TRUE(store->Publish(first).ok());
  auto reader = SnapshotStore::OpenSecondary(path);
  ASSERT_TRUE(reader.ok()) << reader.status();

  bool hook_ran = false;
  PublishOptions publish;
  publish.before_commit = [&]() {
    hook_ran = true;
    // All chunks of version 2 are written and flushed, yet nobody can see version 2.
    EXPECT_TRUE((*reader)->CatchUp().ok());
    EXPECT_EQ(*(*reader)->Latest(), std::optional<uint64_t>(1));
    EXPECT_EQ(*(*reader)->ListVersions(), std::vector<uint64_t>{1});
    EXPECT_EQ(**store->Latest(), 1u);
    return absl::OkStatus();
  };
  Snapshot second = SmallSnapshot(2);
  ASSERT_TRUE(store->Publish(second, publish).ok());
  EXPECT_TRUE(hook_ran);
  ASSERT_TRUE((*reader)->CatchUp().ok());
  EXPECT_EQ(*(*reader)->Latest(), std::optional<uint64_t>(2));
  EXPECT_TRUE(LoadModel(**reader, 2).ok());
}

TEST(SnapshotStoreTest, AbortedPublishLeavesPreviousVersionLatest) {
  TempDir dir;
  auto store = CreateStore(dir.Sub("store"));
  Snapshot first = SmallSnapshot(1);
  ASSERT_TRUE(store->Publish(first).ok());
  PublishOptions publish;
  publish.before_commit = [] { return absl::AbortedError("publisher died"); };
  Snapshot second = SmallSnapshot(2);
  EXPECT_EQ(store->Publish(second, publish).status().code(), absl::StatusCode::kAborted);
  EXPECT_EQ(**store->Latest(), 1u);
  EXPECT_EQ(*store->ListVersions(), std::vector<uint64_t>{1});
  EXPECT_EQ(store->ReadManifest(2).status().code(), absl::StatusCode::kNotFound);
}

class DamagedChunkTest : public ::testing::TestWithParam<ChunkDamage> {};

TEST_P(DamagedChunkTest, IsDetectedAndNamesVersionAndTensor) {
  TempDir dir;
  const std::string path = dir.Sub("store");
  {
    auto store = CreateStore(path);
    Snapshot snapshot = SmallSnapshot();
    PublishOptions publish;
    publish.chunk_bytes = 512;
    ASSERT_TRUE(store->Publish(snapshot, publish).ok());
  }
  ASSERT_TRUE(DamageChunk(path, 1, "user/weight", 1, GetParam()).ok());
  auto store = SnapshotStore::OpenSecondary(path);
  ASSERT_TRUE(store.ok());
  auto model = LoadModel(**store, 1);
  ASSERT_FALSE(model.ok());
  EXPECT_EQ(model.status().code(), absl::StatusCode::kDataLoss);
  EXPECT_NE(model.status().message().find("version 1 tensor 'user/weight'"), std::string::npos)
      << model.status();
}

INSTANTIATE_TEST_SUITE_P(AllDamage, DamagedChunkTest,
                         ::testing::Values(ChunkDamage::kFlipByte, ChunkDamage::kDelete,
                                           ChunkDamage::kTruncate));

TEST(SnapshotStoreTest, ManifestWithImpossibleSizesIsRefusedBeforeAllocating) {
  Manifest manifest = SmallSnapshot().manifest;
  manifest.set_version(3);
  DescribeTensors(SmallSnapshot().tensors, &manifest);
  TensorSpec* spec = manifest.mutable_tensors(0);
  spec->set_shape(0, uint64_t{1} << 62);
  EXPECT_EQ(ValidateManifest(manifest, 0).code(), absl::StatusCode::kResourceExhausted);
  spec->set_shape(0, 3);
  EXPECT_EQ(ValidateManifest(manifest, 0).code(), absl::StatusCode::kDataLoss);
}

TEST(SnapshotStoreTest, GcKeepsNewestVersionsAndDropsOrphanChunks) {
  TempDir dir;
  const std::string path = dir.Sub("store");
  auto store = CreateStore(path);
  for (int i = 0; i < 5; ++i) {
    Snapshot snapshot = SmallSnapshot(i);
    ASSERT_TRUE(store->Publish(snapshot).ok());
  }
  PublishOptions aborted;
  aborted.before_commit = [] { return absl::AbortedError("died"); };
  Snapshot orphan = SmallSnapshot(9);
  ASSERT_FALSE(store->Publish(orphan, aborted).ok());  // chunks of version 6, no manifest

  EXPECT_EQ(store->CollectGarbage(0).status().code(), absl::StatusCode::kInvalidArgument);
  auto removed = store->CollectGarbage(2);
  ASSERT_TRUE(removed.ok()) << removed.status();
  EXPECT_EQ(*removed, (std::vector<uint64_t>{1, 2, 3}));
  EXPECT_EQ(*store->ListVersions(), (std::vector<uint64_t>{4, 5}));
  EXPECT_EQ(**store->Latest(), 5u);
  EXPECT_TRUE(LoadModel(*store, 4).ok());
  EXPECT_TRUE(LoadModel(*store, 5).ok());
  // Removed versions' and the orphan's chunks are gone, not just their manifests.
  Manifest manifest = *store->ReadManifest(5);
  for (uint64_t gone : {1u, 3u, 6u}) {
    EXPECT_EQ(store->ReadTensor(gone, manifest.tensors(0)).status().code(),
              absl::StatusCode::kDataLoss)
        << gone;
  }
  EXPECT_TRUE(store->CollectGarbage(2)->empty());
}

TEST(SnapshotStoreTest, ClearErrorsForMissingAndForeignDirectories) {
  TempDir dir;
  auto missing = SnapshotStore::OpenSecondary(dir.Sub("nope"));
  EXPECT_EQ(missing.status().code(), absl::StatusCode::kNotFound);
  EXPECT_NE(missing.status().message().find("does not exist"), std::string::npos);

  std::filesystem::create_directories(dir.Sub("foreign"));
  std::ofstream(dir.Sub("foreign/notes.txt")) << "hello";
  StoreOptions create;
  create.create_if_missing = true;
  auto foreign = SnapshotStore::OpenPrimary(dir.Sub("foreign"), create);
  EXPECT_EQ(foreign.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_NE(foreign.status().message().find("not a ranker store"), std::string::npos);

  // A RocksDB database that some other program made.
  {
    rocksdb::Options options;
    options.create_if_missing = true;
    rocksdb::DB* db = nullptr;
    ASSERT_TRUE(rocksdb::DB::Open(options, dir.Sub("otherdb"), &db).ok());
    delete db;
  }
  auto other = SnapshotStore::OpenPrimary(dir.Sub("otherdb"));
  EXPECT_EQ(other.status().code(), absl::StatusCode::kFailedPrecondition);
  auto other_secondary = SnapshotStore::OpenSecondary(dir.Sub("otherdb"));
  EXPECT_EQ(other_secondary.status().code(), absl::StatusCode::kFailedPrecondition);
}

TEST(SnapshotStoreTest, EmptyStoreHasNoLatest) {
  TempDir dir;
  auto store = CreateStore(dir.Sub("store"));
  EXPECT_FALSE(store->Latest()->has_value());
  EXPECT_TRUE(store->ListVersions()->empty());
}

// Each primary open starts a new MANIFEST; a reader follows through any number of them
// between two catch-ups, including opens that publish nothing.
TEST(SnapshotStoreTest, ASecondaryFollowsThePrimaryAcrossReopens) {
  TempDir dir;
  const std::string path = dir.Sub("store");
  Snapshot snapshot = SmallSnapshot(1);
  ASSERT_TRUE(CreateStore(path)->Publish(snapshot).ok());
  auto secondary = SnapshotStore::OpenSecondary(path);
  ASSERT_TRUE(secondary.ok()) << secondary.status();
  uint64_t latest = 1;
  for (int round = 0; round < 12; ++round) {
    for (int open = 0; open <= round % 4; ++open) {
      auto primary = SnapshotStore::OpenPrimary(path);
      ASSERT_TRUE(primary.ok()) << primary.status();
      if (open % 2 == 0) latest = *(*primary)->Publish(snapshot);
    }
    ASSERT_TRUE((*secondary)->CatchUp().ok()) << "round " << round;
    auto versions = (*secondary)->ListVersions();
    ASSERT_TRUE(versions.ok()) << versions.status();
    EXPECT_EQ(versions->back(), latest) << "round " << round;
    EXPECT_TRUE(LoadModel(**secondary, latest).ok()) << "round " << round;
  }
}

// A store replaced whole under a running reader (restored from a copy, say): tailing cannot
// follow a MANIFEST that is not a continuation of the one it read; the reader opens afresh.
TEST(SnapshotStoreTest, ASecondaryFollowsAStoreReplacedWhole) {
  TempDir dir;
  const std::string path = dir.Sub("store"), other = dir.Sub("other");
  Snapshot first = SmallSnapshot(1), second = SmallSnapshot(2, snapshot::FULL);
  ASSERT_TRUE(CreateStore(path)->Publish(first).ok());
  {
    auto store = CreateStore(other);
    for (int i = 0; i < 3; ++i) ASSERT_TRUE(store->Publish(second).ok());
  }
  auto secondary = SnapshotStore::OpenSecondary(path);
  ASSERT_TRUE(secondary.ok()) << secondary.status();
  ASSERT_EQ(*(*secondary)->ListVersions(), std::vector<uint64_t>{1});

  std::filesystem::remove_all(path);
  std::filesystem::copy(other, path);
  ASSERT_TRUE((*secondary)->CatchUp().ok());
  EXPECT_EQ(*(*secondary)->ListVersions(), (std::vector<uint64_t>{1, 2, 3}));
  auto model = LoadModel(**secondary, 3);
  ASSERT_TRUE(model.ok()) << model.status();
}

}  // namespace
}  // namespace ranker
