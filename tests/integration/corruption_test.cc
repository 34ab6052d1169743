// Corrupt versions against a real server: each case publishes a good version, damages it on
// disk (chunks or manifest, with raw RocksDB access), and asks the server to load it through
// the admin Reload call. Every case must be refused with a clear error naming the version,
// with the status code the table gives (DATA_LOSS for damaged bytes, FAILED_PRECONDITION
// for a manifest that disagrees with its tensors, RESOURCE_EXHAUSTED for absurd sizes),
// while version 1 keeps serving and the process stays small (nothing absurd was allocated).
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>

#include <functional>

#include "common/grpc_status.h"
#include "proto/snapshot.pb.h"
#include "tests/support/server_fixture.h"
#include "tests/support/store_damage.h"

namespace ranker {
namespace {

using ::ranker::testing::ChunkDamage;
using ::ranker::testing::DamageChunk;
using ::ranker::testing::MetricValue;
using ::ranker::testing::RewriteManifest;
using ::ranker::testing::RunningServer;
using ::ranker::testing::RunStoreTool;
using ::ranker::testing::TempDir;

constexpr uint64_t kHuge = uint64_t{1} << 62;

// Applies `edit` to the parsed manifest and stores it back.
std::function<absl::Status(const std::string&, uint64_t)> EditManifest(
    std::function<void(snapshot::Manifest*)> edit) {
  return [edit](const std::string& store, uint64_t version) {
    return RewriteManifest(store, version, [&](std::string* bytes) {
      snapshot::Manifest manifest;
      ASSERT_TRUE(manifest.ParseFromString(*bytes));
      edit(&manifest);
      *bytes = manifest.SerializeAsString();
    });
  };
}

snapshot::TensorSpec* FindTensor(snapshot::Manifest* manifest, const std::string& name) {
  for (auto& tensor : *manifest->mutable_tensors()) {
    if (tensor.name() == name) return &tensor;
  }
  ADD_FAILURE() << "no tensor " << name;
  static snapshot::TensorSpec unused;
  return &unused;
}

struct Corruption {
  std::string name;
  grpc::StatusCode code;  // what admin Reload must answer
  std::function<absl::Status(const std::string& store, uint64_t version)> damage;
};

std::vector<Corruption> Corruptions() {
  const auto chunk = [](const char* tensor, ChunkDamage damage) {
    return [tensor, damage](const std::string& store, uint64_t version) {
      return DamageChunk(store, version, tensor, 0, damage);
    };
  };
  return {
      {"flipped byte in a chunk", grpc::StatusCode::DATA_LOSS,
       chunk("item/shared", ChunkDamage::kFlipByte)},
      {"truncated chunk", grpc::StatusCode::DATA_LOSS,
       chunk("user/weight", ChunkDamage::kTruncate)},
      {"missing chunk", grpc::StatusCode::DATA_LOSS, chunk("mlp/0/weight", ChunkDamage::kDelete)},
      {"table with n = 2^62", grpc::StatusCode::FAILED_PRECONDITION,
       EditManifest([](snapshot::Manifest* m) { m->mutable_tables(0)->set_n(kHuge); })},
      {"tensor shape 2^62 x d, byte size unchanged", grpc::StatusCode::RESOURCE_EXHAUSTED,
       EditManifest(
           [](snapshot::Manifest* m) { FindTensor(m, "user/weight")->set_shape(0, kHuge); })},
      {"tensor shape and byte size both 2^62-sized", grpc::StatusCode::RESOURCE_EXHAUSTED,
       EditManifest([](snapshot::Manifest* m) {
         snapshot::TensorSpec* t = FindTensor(m, "user/weight");
         t->set_shape(0, kHuge);
         t->set_byte_size(kHuge * 4);
       })},
      {"shape whose product overflows 64 bits", grpc::StatusCode::RESOURCE_EXHAUSTED,
       EditManifest([](snapshot::Manifest* m) {
         snapshot::TensorSpec* t = FindTensor(m, "item/shared");
         t->set_shape(0, kHuge);
         t->set_shape(1, 1 << 10);
       })},
      {"byte size doubled with a matching shape", grpc::StatusCode::DATA_LOSS,
       EditManifest([](snapshot::Manifest* m) {
         snapshot::TensorSpec* t = FindTensor(m, "item/weight");
         t->set_shape(0, t->shape(0) * 2);
         t->set_byte_size(t->byte_size() * 2);
       })},
      {"chunk count 2^31", grpc::StatusCode::DATA_LOSS, EditManifest([](snapshot::Manifest* m) {
         FindTensor(m, "user/shared")->set_chunk_count(1u << 31);
       })},
      {"unknown dtype", grpc::StatusCode::DATA_LOSS, EditManifest([](snapshot::Manifest* m) {
         FindTensor(m, "user/shared")->set_dtype(static_cast<snapshot::DType>(99));
       })},
      {"scorer widths that disagree with the tensors", grpc::StatusCode::FAILED_PRECONDITION,
       EditManifest([](snapshot::Manifest* m) {
         m->mutable_scorer()->set_widths(0, m->scorer().widths(0) + 1);
       })},
      {"missing tensor entry", grpc::StatusCode::FAILED_PRECONDITION,
       EditManifest([](snapshot::Manifest* m) { m->mutable_tensors()->RemoveLast(); })},
      {"manifest bytes that are not a protobuf", grpc::StatusCode::DATA_LOSS,
       [](const std::string& store, uint64_t version) {
         return RewriteManifest(store, version,
                                [](std::string* bytes) { *bytes = "\xff\xff\xff garbage"; });
       }},
      {"empty manifest", grpc::StatusCode::DATA_LOSS,
       [](const std::string& store, uint64_t version) {
         return RewriteManifest(store, version, [](std::string* bytes) { bytes->clear(); });
       }},
  };
}

TEST(CorruptionTest, EveryDamagedVersionIsRefusedAndVersionOneKeepsServing) {
  TempDir dir;
  const std::string store = dir.Sub("store");
  const std::vector<std::string> demo = {"demo",         "--store=" + store, "--users=3000",
                                         "--items=2000", "--d=16",           "--hidden=16,8",
                                         "--ratio=4",    "--chunk_kib=16"};
  RunStoreTool(demo);
  // No polling: versions are loaded only when the test asks, after damaging them.
  RunningServer server(store, {"--poll_interval=1h"});
  ASSERT_TRUE(server.ok());
  auto ranker = server.Ranker();
  auto admin = server.Admin();

  int refused = 0;
  uint64_t version = 1;
  for (const Corruption& corruption : Corruptions()) {
    SCOPED_TRACE(corruption.name);
    ++version;
    std::vector<std::string> args = demo;
    args.push_back("--seed=" + std::to_string(version));
    RunStoreTool(args);
    ASSERT_TRUE(corruption.damage(store, version).ok());

    grpc::ClientContext reload_context;
    v1::ReloadResponse reload;
    const grpc::Status status = admin->Reload(&reload_context, {}, &reload);
    EXPECT_EQ(status.error_code(), corruption.code)
        << StatusCodeName(status.error_code()) << ": " << status.error_message();
    EXPECT_NE(status.error_message().find("version " + std::to_string(version)), std::string::npos)
        << status.error_message();
    std::printf("%-46s -> %s: %s\n", corruption.name.c_str(), StatusCodeName(status.error_code()),
                status.error_message().c_str());
    if (!status.ok()) ++refused;

    grpc::ClientContext rank_context;
    v1::RankRequest request;
    request.set_user_id(version);
    request.set_k(3);
    v1::RankResponse response;
    ASSERT_TRUE(ranker->Rank(&rank_context, request, &response).ok());
    EXPECT_EQ(response.model_version(), 1u);
  }
  std::printf("%d of %zu corruptions refused; version 1 served throughout\n", refused,
              Corruptions().size());
  const std::string metrics = server.ScrapeMetrics();
  EXPECT_EQ(MetricValue(metrics, "ranker_model_reloads_total{result=\"failure\"}"),
            static_cast<double>(Corruptions().size()));
  EXPECT_EQ(MetricValue(metrics, "ranker_model_version"), 1);
  // Nothing near the absurd sizes was allocated: the process is still small.
  const double resident = MetricValue(metrics, "process_resident_memory_bytes");
  EXPECT_GT(resident, 0);  // the metric is there (MetricValue gives -1 when it is not)
  EXPECT_LT(resident, 1e9);

  // A good version after all that is loaded.
  RunStoreTool(demo);
  grpc::ClientContext reload_context;
  v1::ReloadResponse reload;
  ASSERT_TRUE(admin->Reload(&reload_context, {}, &reload).ok());
  EXPECT_EQ(reload.serving_version(), version + 1);
}

}  // namespace
}  // namespace ranker
