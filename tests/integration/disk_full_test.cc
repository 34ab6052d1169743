// Write failures while publishing: a RocksDB FileSystem that runs out of space after a byte
// budget (as a full disk would) stands under a real store, while a real server follows it.
// Every publish must fail with a clear error, and the previous version must stay latest,
// bit-for-bit, and keep being served. Once space is back, publishing works again.
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>

#include <atomic>
#include <cstring>
#include <thread>

#include "model/demo_model.h"
#include "model_store/model_loader.h"
#include "model_store/snapshot_store.h"
#include "rocksdb/env.h"
#include "rocksdb/file_system.h"
#include "tests/support/server_fixture.h"

namespace ranker {
namespace {

using ::ranker::testing::MetricValue;
using ::ranker::testing::RunningServer;
using ::ranker::testing::TempDir;

// Shared between the file system and its files: bytes that may still be written (< 0: no
// limit).
class SpaceBudget {
 public:
  void Set(int64_t bytes) {
    remaining_ = bytes;
    limited_ = bytes >= 0;
  }
  bool Take(size_t bytes) {
    if (!limited_) return true;
    // Once exhausted, stays exhausted: a full disk does not free itself.
    return remaining_.fetch_sub(static_cast<int64_t>(bytes)) >= static_cast<int64_t>(bytes);
  }

 private:
  std::atomic<bool> limited_{false};
  std::atomic<int64_t> remaining_{0};
};

rocksdb::IOStatus NoSpace() {
  return rocksdb::IOStatus::NoSpace("injected: no space left on device");
}

class BudgetedFile : public rocksdb::FSWritableFileOwnerWrapper {
 public:
  BudgetedFile(std::unique_ptr<rocksdb::FSWritableFile> file, SpaceBudget* budget)
      : FSWritableFileOwnerWrapper(std::move(file)), budget_(budget) {}

  rocksdb::IOStatus Append(const rocksdb::Slice& data, const rocksdb::IOOptions& options,
                           rocksdb::IODebugContext* debug) override {
    if (!budget_->Take(data.size())) return NoSpace();
    return target()->Append(data, options, debug);
  }
  rocksdb::IOStatus Append(const rocksdb::Slice& data, const rocksdb::IOOptions& options,
                           const rocksdb::DataVerificationInfo& info,
                           rocksdb::IODebugContext* debug) override {
    if (!budget_->Take(data.size())) return NoSpace();
    return target()->Append(data, options, info, debug);
  }
  rocksdb::IOStatus PositionedAppend(const rocksdb::Slice& data, uint64_t offset,
                                     const rocksdb::IOOptions& options,
                                     rocksdb::IODebugContext* debug) override {
    if (!budget_->Take(data.size())) return NoSpace();
    return target()->PositionedAppend(data, offset, options, debug);
  }
  rocksdb::IOStatus PositionedAppend(const rocksdb::Slice& data, uint64_t offset,
                                     const rocksdb::IOOptions& options,
                                     const rocksdb::DataVerificationInfo& info,
                                     rocksdb::IODebugContext* debug) override {
    if (!budget_->Take(data.size())) return NoSpace();
    return target()->PositionedAppend(data, offset, options, info, debug);
  }

 private:
  SpaceBudget* budget_;
};

class DiskFullFileSystem : public rocksdb::FileSystemWrapper {
 public:
  explicit DiskFullFileSystem(SpaceBudget* budget)
      : FileSystemWrapper(rocksdb::FileSystem::Default()), budget_(budget) {}
  const char* Name() const override { return "DiskFullFileSystem"; }

  rocksdb::IOStatus NewWritableFile(const std::string& name, const rocksdb::FileOptions& options,
                                    std::unique_ptr<rocksdb::FSWritableFile>* result,
                                    rocksdb::IODebugContext* debug) override {
    std::unique_ptr<rocksdb::FSWritableFile> file;
    rocksdb::IOStatus status = target()->NewWritableFile(name, options, &file, debug);
    if (status.ok()) *result = std::make_unique<BudgetedFile>(std::move(file), budget_);
    return status;
  }
  rocksdb::IOStatus ReopenWritableFile(const std::string& name, const rocksdb::FileOptions& options,
                                       std::unique_ptr<rocksdb::FSWritableFile>* result,
                                       rocksdb::IODebugContext* debug) override {
    std::unique_ptr<rocksdb::FSWritableFile> file;
    rocksdb::IOStatus status = target()->ReopenWritableFile(name, options, &file, debug);
    if (status.ok()) *result = std::make_unique<BudgetedFile>(std::move(file), budget_);
    return status;
  }
  rocksdb::IOStatus ReuseWritableFile(const std::string& name, const std::string& old_name,
                                      const rocksdb::FileOptions& options,
                                      std::unique_ptr<rocksdb::FSWritableFile>* result,
                                      rocksdb::IODebugContext* debug) override {
    std::unique_ptr<rocksdb::FSWritableFile> file;
    rocksdb::IOStatus status = target()->ReuseWritableFile(name, old_name, options, &file, debug);
    if (status.ok()) *result = std::make_unique<BudgetedFile>(std::move(file), budget_);
    return status;
  }

 private:
  SpaceBudget* budget_;
};

Snapshot Demo(uint64_t seed) {
  DemoModelOptions options;
  options.users = 8000;
  options.items = 8000;
  options.d = 32;
  options.kind = snapshot::FULL;  // 2 MB of tables
  options.hidden = {16};
  options.seed = seed;
  absl::StatusOr<Snapshot> snapshot = MakeDemoSnapshot(options);
  EXPECT_TRUE(snapshot.ok()) << snapshot.status();
  return *std::move(snapshot);
}

bool SameTensors(const TensorMap& a, const TensorMap& b) {
  if (a.size() != b.size()) return false;
  for (const auto& [name, tensor] : a) {
    auto it = b.find(name);
    if (it == b.end() || it->second.shape != tensor.shape ||
        it->second.bytes.size() != tensor.bytes.size() ||
        std::memcmp(it->second.bytes.data(), tensor.bytes.data(), tensor.bytes.size()) != 0) {
      return false;
    }
  }
  return true;
}

TEST(DiskFullTest, PublishFailsCleanlyAndThePreviousVersionStaysServed) {
  TempDir dir;
  const std::string path = dir.Sub("store");
  Snapshot first = Demo(1);
  TensorMap first_tensors;
  {
    auto store = SnapshotStore::OpenPrimary(path, {.create_if_missing = true});
    ASSERT_TRUE(store.ok());
    ASSERT_TRUE((*store)->Publish(first).ok());
  }
  {
    auto store = SnapshotStore::OpenSecondary(path);
    ASSERT_TRUE(store.ok());
    auto read = ReadSnapshot(**store, 1);
    ASSERT_TRUE(read.ok());
    first_tensors = std::move(read->tensors);
  }
  RunningServer server(path, {"--poll_interval=100ms"});
  ASSERT_TRUE(server.ok());
  auto stub = server.Ranker();
  const auto rank_version = [&]() -> uint64_t {
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(30));
    v1::RankRequest request;
    request.set_user_id(7);
    request.set_k(5);
    v1::RankResponse response;
    const grpc::Status status = stub->Rank(&context, request, &response);
    EXPECT_TRUE(status.ok()) << status.error_message();
    return response.model_version();
  };

  SpaceBudget budget;
  auto file_system = std::make_shared<DiskFullFileSystem>(&budget);
  std::unique_ptr<rocksdb::Env> env = rocksdb::NewCompositeEnv(file_system);
  int refused_at_open = 0, refused_at_publish = 0;
  // From no space at all to 3/4 of what the new version needs.
  for (int64_t bytes : {0, 512, 4096, 65536, 262144, 524288, 1 << 20, 1536 * 1024}) {
    SCOPED_TRACE(bytes);
    budget.Set(bytes);
    {
      auto store = SnapshotStore::OpenPrimary(path, {.env = env.get()});
      if (!store.ok()) {
        ++refused_at_open;
      } else {
        Snapshot second = Demo(2);
        absl::StatusOr<uint64_t> published = (*store)->Publish(second);
        ASSERT_FALSE(published.ok()) << "published with only " << bytes << " bytes of space";
        EXPECT_NE(published.status().message().find("space"), std::string::npos)
            << published.status();
        ++refused_at_publish;
      }
    }
    budget.Set(-1);
    // The store reopens, still at version 1, with every byte of it intact.
    auto store = SnapshotStore::OpenPrimary(path);
    ASSERT_TRUE(store.ok()) << store.status();
    auto latest = (*store)->Latest();
    ASSERT_TRUE(latest.ok() && latest->has_value());
    EXPECT_EQ(**latest, 1u);
    auto versions = (*store)->ListVersions();
    ASSERT_TRUE(versions.ok());
    EXPECT_EQ(*versions, std::vector<uint64_t>{1});
    auto read = ReadSnapshot(**store, 1);
    ASSERT_TRUE(read.ok()) << read.status();
    EXPECT_TRUE(SameTensors(read->tensors, first_tensors));
    EXPECT_EQ(rank_version(), 1u);
  }
  std::printf(
      "8 publishes on a full disk: %d refused when opening the store, %d while "
      "publishing; version 1 intact after each\n",
      refused_at_open, refused_at_publish);
  EXPECT_GT(refused_at_publish, 0);

  // Space is back: the next publish works, gc clears the failed attempts, the server moves on.
  {
    auto store = SnapshotStore::OpenPrimary(path);
    ASSERT_TRUE(store.ok());
    Snapshot second = Demo(2);
    absl::StatusOr<uint64_t> published = (*store)->Publish(second);
    ASSERT_TRUE(published.ok()) << published.status();
    EXPECT_EQ(*published, 2u);
    EXPECT_TRUE((*store)->CollectGarbage(2).ok());
  }
  uint64_t served = 0;
  for (int attempt = 0; attempt < 100 && served != 2; ++attempt) {
    served = rank_version();
    if (served != 2) std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  EXPECT_EQ(served, 2u);
  EXPECT_EQ(MetricValue(server.ScrapeMetrics(), "ranker_model_reloads_total{result=\"failure\"}"),
            0);
}

}  // namespace
}  // namespace ranker
