// `ranker-store import`: .npy tensors plus a description become a snapshot that scores exactly
// like the model they came from; bad shapes and files are refused with clear errors.
#include "model_store/import_spec.h"

#include <gtest/gtest.h>

#include <fstream>

#include "model/demo_model.h"
#include "model/model.h"
#include "model_store/npy.h"
#include "tests/support/test_util.h"

namespace ranker {
namespace {

using ::ranker::testing::TempDir;

DemoModelOptions Options() {
  DemoModelOptions o;
  o.users = 40;
  o.items = 30;
  o.d = 8;
  o.kind = snapshot::MEMCOM;
  o.ratio = 2;
  o.hidden = {6};
  o.dot_weight = 0.5f;
  o.sparse_item_ids = true;
  return o;
}

// Writes every tensor of the demo model as .npy and a description; returns its path.
std::string WriteImport(const TempDir& dir, const Snapshot& s, const std::string& extra = "") {
  std::ofstream spec(dir.Sub("model.txt"));
  for (const TableSpec& t : s.manifest.tables()) {
    spec << "table " << t.feature() << " kind=memcom n=" << t.n() << " m=" << t.m()
         << " d=" << t.d() << " rows=" << RowStorageName(RowStorageOf(t)) << "\n";
  }
  spec << "scorer widths=24,6,1 dot_weight=0.5  # MLP over [u, i, u*i]\n";
  for (const auto& [name, tensor] : s.tensors) {
    std::string file = name;
    std::replace(file.begin(), file.end(), '/', '_');
    EXPECT_TRUE(WriteNpy(dir.Sub(file + ".npy"), tensor).ok());
    spec << "tensor " << name << " = " << file << ".npy\n";
  }
  spec << extra;
  return dir.Sub("model.txt");
}

// Row storages by name: float32, int8 and pq codes (4-bit, two sub-vectors).
class ImportRowsTest : public ::testing::TestWithParam<const char*> {
 protected:
  static DemoModelOptions RowOptions() {
    DemoModelOptions o = Options();
    o.rows = *ParseRowStorage(GetParam());
    return o;
  }
};

TEST_P(ImportRowsTest, RoundTripScoresIdentically) {
  TempDir dir;
  Snapshot original = *MakeDemoSnapshot(RowOptions());
  auto imported = ImportSnapshot(WriteImport(dir, original));
  ASSERT_TRUE(imported.ok()) << imported.status();
  EXPECT_TRUE(imported->manifest.tables(1).has_id_map());
  EXPECT_EQ(RowStorageName(RowStorageOf(imported->manifest.tables(1))), GetParam());
  Snapshot reference = *MakeDemoSnapshot(RowOptions());
  auto a = Model::Create(reference.manifest, std::move(reference.tensors));
  auto b = Model::Create(imported->manifest, std::move(imported->tensors));
  ASSERT_TRUE(a.ok() && b.ok()) << b.status();
  RankScratch scratch;
  RankResult ra, rb;
  (*a)->Rank(3, {}, 30, &scratch, &ra);
  (*b)->Rank(3, {}, 30, &scratch, &rb);
  ASSERT_EQ(ra.items.size(), rb.items.size());
  for (size_t i = 0; i < ra.items.size(); ++i) {
    EXPECT_EQ(ra.items[i].id, rb.items[i].id);
    EXPECT_EQ(ra.items[i].score, rb.items[i].score);
  }
}

INSTANTIATE_TEST_SUITE_P(EveryRowStorage, ImportRowsTest,
                         ::testing::Values("float32", "int8", "pq2x4"),
                         [](const ::testing::TestParamInfo<const char*>& param) {
                           return std::string(param.param);
                         });

TEST(ImportTest, UnknownRowStorageIsRefused) {
  TempDir dir;
  std::ofstream(dir.Sub("model.txt")) << "table item kind=full n=5 d=4 rows=fp16\n";
  auto imported = ImportSnapshot(dir.Sub("model.txt"));
  ASSERT_FALSE(imported.ok());
  EXPECT_NE(imported.status().message().find("fp16"), std::string::npos) << imported.status();
}

TEST(ImportTest, WrongShapeIsRefusedNamingTheTensor) {
  TempDir dir;
  Snapshot original = *MakeDemoSnapshot(Options());
  original.tensors["user/weight"] = *MakeFloatTensor({41});  // n is 40
  auto imported = ImportSnapshot(WriteImport(dir, original));
  ASSERT_TRUE(imported.ok());
  auto model = Model::Create(imported->manifest, std::move(imported->tensors));
  ASSERT_FALSE(model.ok());
  EXPECT_NE(model.status().message().find("user/weight"), std::string::npos) << model.status();
}

TEST(ImportTest, BadFilesAndLinesGiveClearErrors) {
  TempDir dir;
  std::ofstream(dir.Sub("junk.npy")) << "hello";
  EXPECT_NE(ReadNpy(dir.Sub("junk.npy")).status().message().find("not a .npy file"),
            std::string::npos);
  Tensor doubles = *MakeFloatTensor({2});
  ASSERT_TRUE(WriteNpy(dir.Sub("ok.npy"), doubles).ok());
  auto back = ReadNpy(dir.Sub("ok.npy"));
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_EQ(back->shape, std::vector<uint64_t>{2});
  // A header claiming more data than the file holds is refused before allocating (found by
  // fuzz/npy_fuzzer: a 2 TB shape in a 200-byte file).
  for (const char* shape : {"(2, 3)", "(1099511627775,)", "(1,)"}) {
    std::string header =
        std::string("{'descr': '<f4', 'fortran_order': False, 'shape': ") + shape + ", }";
    header.resize(117, ' ');
    header += '\n';
    std::ofstream(dir.Sub("lying.npy"), std::ios::binary)
        << std::string("\x93NUMPY\x01\x00", 8) << static_cast<char>(header.size())
        << static_cast<char>(0) << header << "12345678";
    auto lying = ReadNpy(dir.Sub("lying.npy"));
    ASSERT_FALSE(lying.ok()) << shape;
    EXPECT_NE(lying.status().message().find("bytes of data, the file has 8"), std::string::npos)
        << lying.status();
  }
  Snapshot original = *MakeDemoSnapshot(Options());
  auto imported = ImportSnapshot(WriteImport(dir, original, "frobnicate the tables\n"));
  ASSERT_FALSE(imported.ok());
  EXPECT_NE(imported.status().message().find("model.txt:"), std::string::npos);
  EXPECT_NE(imported.status().message().find("expected 'table NAME"), std::string::npos);
}

}  // namespace
}  // namespace ranker
