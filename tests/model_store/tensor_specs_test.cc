#include "model_store/tensor_specs.h"

#include <gmock/gmock.h>
#include <google/protobuf/util/message_differencer.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <vector>

#include "common/crc32c.h"
#include "model/demo_model.h"
#include "model/snapshot.h"
#include "model_store/model_loader.h"
#include "model_store/snapshot_store.h"
#include "tests/support/test_util.h"

namespace ranker {
namespace {

using ::google::protobuf::util::MessageDifferencer;
using ::ranker::testing::TempDir;
using ::testing::HasSubstr;

Snapshot DemoSnapshot() {
  DemoModelOptions options;
  options.users = 120;
  options.items = 90;
  options.d = 8;
  options.kind = snapshot::MEMCOM;
  options.ratio = 4;
  options.hidden = {16};
  options.sparse_item_ids = true;  // adds a UINT64 id map tensor beside the float ones
  absl::StatusOr<Snapshot> snapshot = MakeDemoSnapshot(options);
  EXPECT_TRUE(snapshot.ok()) << snapshot.status();
  return *std::move(snapshot);
}

Manifest DescribedManifest(const Snapshot& snapshot) {
  Manifest manifest = snapshot.manifest;
  manifest.set_format_version(1);
  manifest.set_version(7);
  manifest.set_created_unix_seconds(1700000000);
  DescribeTensors(snapshot.tensors, &manifest);
  return manifest;
}

TEST(ManifestTest, SerializedManifestParsesBackEqual) {
  const Snapshot snapshot = DemoSnapshot();
  const Manifest manifest = DescribedManifest(snapshot);
  ASSERT_EQ(static_cast<size_t>(manifest.tensors_size()), snapshot.tensors.size());
  ASSERT_FALSE(manifest.producer().empty());

  std::string bytes;
  ASSERT_TRUE(manifest.SerializeToString(&bytes));
  Manifest parsed;
  ASSERT_TRUE(parsed.ParseFromString(bytes));
  std::string differences;
  MessageDifferencer differencer;
  differencer.ReportDifferencesToString(&differences);
  EXPECT_TRUE(differencer.Compare(manifest, parsed)) << differences;
  EXPECT_TRUE(MessageDifferencer::Equals(manifest, parsed));

  // The comparison is not vacuous: one changed checksum is a difference.
  parsed.mutable_tensors(0)->set_crc32c(parsed.tensors(0).crc32c() ^ 1);
  EXPECT_FALSE(MessageDifferencer::Equals(manifest, parsed));
}

TEST(ManifestTest, TensorSpecsDescribeTheTensors) {
  const Snapshot snapshot = DemoSnapshot();
  const Manifest manifest = DescribedManifest(snapshot);
  std::vector<std::string> names;
  bool saw_uint64 = false;
  for (const TensorSpec& spec : manifest.tensors()) {
    SCOPED_TRACE(spec.name());
    names.push_back(spec.name());
    ASSERT_TRUE(snapshot.tensors.contains(spec.name()));
    const Tensor& tensor = snapshot.tensors.at(spec.name());
    EXPECT_EQ(spec.dtype(), tensor.dtype);
    EXPECT_EQ(std::vector<uint64_t>(spec.shape().begin(), spec.shape().end()), tensor.shape);
    EXPECT_EQ(spec.byte_size(), tensor.bytes.size());
    uint64_t elements = 1;
    for (uint64_t dim : tensor.shape) elements *= dim;
    EXPECT_EQ(spec.byte_size(), elements * DTypeSize(tensor.dtype));
    EXPECT_EQ(spec.crc32c(), Crc32c(tensor.bytes.data(), tensor.bytes.size()));
    EXPECT_EQ(spec.crc32c(), Crc32cSoftware(tensor.bytes.data(), tensor.bytes.size()));
    saw_uint64 |= spec.dtype() == snapshot::UINT64;
  }
  EXPECT_TRUE(std::is_sorted(names.begin(), names.end()));
  EXPECT_EQ(std::adjacent_find(names.begin(), names.end()), names.end()) << "duplicate names";
  EXPECT_TRUE(saw_uint64) << "the demo should carry an item id map";
}

TEST(ManifestTest, DescribeTensorsReplacesAnExistingList) {
  const Snapshot snapshot = DemoSnapshot();
  Manifest manifest = DescribedManifest(snapshot);
  TensorSpec* stale = manifest.add_tensors();
  stale->set_name("stale/tensor");
  DescribeTensors(snapshot.tensors, &manifest);
  EXPECT_TRUE(MessageDifferencer::Equals(manifest, DescribedManifest(snapshot)));
}

TEST(ManifestTest, ValidateManifestAcceptsTheDescription) {
  const Manifest manifest = DescribedManifest(DemoSnapshot());
  EXPECT_TRUE(ValidateManifest(manifest, 0).ok()) << ValidateManifest(manifest, 0);
}

TEST(ManifestTest, ValidateManifestRejectsInconsistentSpecs) {
  const Manifest good = DescribedManifest(DemoSnapshot());
  struct Case {
    std::string name;
    void (*damage)(Manifest*);
    std::string message;
  };
  const std::vector<Case> cases = {
      {"byte size one element too big",
       [](Manifest* m) {
         TensorSpec* spec = m->mutable_tensors(0);
         spec->set_byte_size(spec->byte_size() + DTypeSize(spec->dtype()));
       },
       "manifest says"},
      {"byte size one byte short",
       [](Manifest* m) { m->mutable_tensors(1)->set_byte_size(m->tensors(1).byte_size() - 1); },
       "manifest says"},
      {"shape changed, size kept",
       [](Manifest* m) { m->mutable_tensors(0)->set_shape(0, m->tensors(0).shape(0) + 1); },
       "shape needs"},
      {"duplicate tensor name", [](Manifest* m) { *m->add_tensors() = m->tensors(2); },
       "listed twice"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    Manifest manifest = good;
    c.damage(&manifest);
    const absl::Status status = ValidateManifest(manifest, 0);
    EXPECT_EQ(status.code(), absl::StatusCode::kDataLoss) << status;
    EXPECT_THAT(std::string(status.message()), HasSubstr(c.message));
    EXPECT_THAT(std::string(status.message()), HasSubstr("version 7"));
  }
}

TEST(ManifestTest, StoreKeepsThePublishedManifest) {
  TempDir dir;
  StoreOptions options;
  options.create_if_missing = true;
  auto store = SnapshotStore::OpenPrimary(dir.Sub("store"), options);
  ASSERT_TRUE(store.ok()) << store.status();
  Snapshot snapshot = DemoSnapshot();
  auto version = (*store)->Publish(snapshot);
  ASSERT_TRUE(version.ok()) << version.status();

  auto stored = (*store)->ReadManifest(*version);
  ASSERT_TRUE(stored.ok()) << stored.status();
  EXPECT_TRUE(MessageDifferencer::Equals(*stored, snapshot.manifest));
  // Apart from chunk counts (the store's business), the tensor list is DescribeTensors'.
  Manifest expected = *stored;
  DescribeTensors(snapshot.tensors, &expected);
  Manifest without_chunks = *stored;
  for (TensorSpec& spec : *without_chunks.mutable_tensors()) {
    EXPECT_GE(spec.chunk_count(), 1u) << spec.name();
    spec.clear_chunk_count();
  }
  EXPECT_TRUE(MessageDifferencer::Equals(without_chunks, expected));
  EXPECT_TRUE(ValidateManifest(*stored, 0).ok());
  // Reading back checks every chunk against the manifest's byte sizes and CRC-32Cs.
  auto read = ReadSnapshot(**store, *version);
  ASSERT_TRUE(read.ok()) << read.status();
  EXPECT_EQ(read->tensors.size(), snapshot.tensors.size());
}

}  // namespace
}  // namespace ranker
