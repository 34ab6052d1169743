// Int8 rows (model/int8_rows.h, table_rows.h): rounding, conversion of every kind's tables, and
// serving: an int8 table embeds and ranks bit-identically to a float32 table holding the values
// its levels decode to, takes the bytes it claims, and damaged int8 snapshots are refused.
#include "model/int8_rows.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <string>
#include <tuple>
#include <vector>

#include "model/demo_model.h"
#include "model/model.h"
#include "model/table_layout.h"
#include "model/table_sizing.h"
#include "tests/support/table_kinds.h"

namespace ranker {
namespace {

TEST(Int8RowsTest, RowsKeepTheirMaximumAndMoveByHalfAStepAtMost) {
  const std::vector<float> row = {0.5f, -1.27f, 0.013f, 0.0f};  // max |x| 1.27: step 0.01
  int8_t levels[4];
  const float scale = QuantizeRowInt8(row.data(), row.size(), levels);
  EXPECT_FLOAT_EQ(scale, 0.01f);
  EXPECT_EQ(levels[1], -127);
  for (size_t k = 0; k < row.size(); ++k) {
    EXPECT_LE(std::abs(static_cast<float>(levels[k]) * scale - row[k]), scale / 2 + 1e-6f) << k;
  }
  const float zeros[3] = {0, 0, 0};
  int8_t zero_levels[3] = {1, 1, 1};
  EXPECT_EQ(QuantizeRowInt8(zeros, 3, zero_levels), 0.0f);  // a zero row stays zero
  for (int8_t level : zero_levels) EXPECT_EQ(level, 0);
}

TEST(Int8RowsTest, OnlyTheRowsOfATableAreConvertedAndCounted) {
  TableSpec spec = *SizeTable("item", snapshot::MEMCOM, 100, 8, 4);
  TensorMap tensors;
  for (const TensorLayout& tensor : FindTableLayout(spec.kind())->tensors) {
    Tensor t = *MakeFloatTensor(TensorShape(tensor, spec));
    auto values = t.bytes.as<float>();
    for (size_t i = 0; i < values.size(); ++i) values[i] = 0.1234567f * static_cast<float>(i % 7);
    tensors[TensorNameOf(tensor, spec)] = std::move(t);
  }
  ASSERT_TRUE(ConvertTableToInt8(&spec, &tensors).ok());
  EXPECT_EQ(spec.row_dtype(), snapshot::INT8);
  const Tensor& levels = tensors["item/shared"];
  EXPECT_EQ(levels.dtype, snapshot::INT8);
  EXPECT_EQ(levels.shape, (std::vector<uint64_t>{spec.m(), 8}));
  EXPECT_EQ(levels.bytes.size(), spec.m() * 8);
  EXPECT_EQ(tensors["item/shared_scale"].shape, (std::vector<uint64_t>{spec.m()}));
  // Row 0 is 0, .12, .25, ... .74 (max 6 * 0.1234567): its levels span 0..127.
  EXPECT_EQ(levels.bytes.as<int8_t>()[6], 127);
  EXPECT_EQ(tensors["item/weight"].dtype, snapshot::FLOAT32);  // per-entity: as is
  EXPECT_EQ(tensors["item/weight"].bytes.as<float>()[1], 0.1234567f);
  // m rows of d int8 levels and a float scale, n float weights.
  EXPECT_EQ(StoredTableBytes(spec), spec.m() * (8 + 4) + 100 * 4);
  EXPECT_EQ(ConvertTableToInt8(&spec, &tensors).code(), absl::StatusCode::kFailedPrecondition);
  TableSpec other = *SizeTable("user", snapshot::MEMCOM, 100, 8, 4);
  EXPECT_EQ(ConvertTableToInt8(&other, &tensors).code(), absl::StatusCode::kFailedPrecondition);
}

TEST(Int8RowsTest, TinyRowsBecomeZeroAndNonFiniteTablesAreRefusedUnchanged) {
  const float tiny[2] = {1e-44f, -1e-44f};  // max |x| / 127 underflows to 0
  int8_t levels[2] = {5, 5};
  EXPECT_EQ(QuantizeRowInt8(tiny, 2, levels), 0.0f);
  EXPECT_EQ(levels[0], 0);
  EXPECT_EQ(levels[1], 0);

  // memcom2 has two row tensors: a NaN in the second must leave the first as float32 too.
  TableSpec spec = *SizeTable("item", snapshot::MEMCOM2, 50, 8, 2);
  TensorMap tensors;
  for (const TensorLayout& tensor : FindTableLayout(spec.kind())->tensors) {
    tensors[TensorNameOf(tensor, spec)] = *MakeFloatTensor(TensorShape(tensor, spec));
  }
  tensors["item/shared2"].bytes.as<float>()[3] = std::nanf("");
  const absl::Status status = ConvertTableToInt8(&spec, &tensors);
  EXPECT_EQ(status.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_NE(status.message().find("item/shared2 holds a non-finite value"), std::string::npos)
      << status;
  EXPECT_EQ(tensors["item/shared"].dtype, snapshot::FLOAT32);
  EXPECT_FALSE(tensors.contains("item/shared_scale"));
  EXPECT_FALSE(HasInt8Rows(spec));

  tensors["item/shared2"].bytes.as<float>()[3] = 0.0f;
  tensors["item/shared_scale"] = *MakeFloatTensor({spec.m()});
  EXPECT_EQ(ConvertTableToInt8(&spec, &tensors).code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(tensors["item/shared"].dtype, snapshot::FLOAT32);
}

// A float32 copy of `snapshot` whose int8 tables hold the values their levels decode to.
Snapshot DecodedCopy(const Snapshot& snapshot) {
  Snapshot copy{snapshot.manifest, *CopyTensors(snapshot.tensors)};
  for (TableSpec& spec : *copy.manifest.mutable_tables()) {
    if (!HasInt8Rows(spec)) continue;
    for (const TensorLayout& tensor : FindTableLayout(spec.kind())->tensors) {
      if (!IsRowTensor(tensor)) continue;
      const std::string name = TensorNameOf(tensor, spec);
      const std::string scale_name = ScaleTensorNameOf(tensor, spec);
      Tensor decoded = *MakeFloatTensor(TensorShape(tensor, spec));
      const auto levels = copy.tensors[name].bytes.as<int8_t>();
      const auto scales = copy.tensors[scale_name].bytes.as<float>();
      auto values = decoded.bytes.as<float>();
      for (size_t e = 0; e < values.size(); ++e) {
        values[e] = static_cast<float>(levels[e]) * scales[e / spec.d()];
      }
      copy.tensors[name] = std::move(decoded);
      copy.tensors.erase(scale_name);
    }
    spec.clear_row_dtype();
  }
  return copy;
}

using Param = testing::KindModeHash;

class Int8ServingTest : public ::testing::TestWithParam<Param> {
 protected:
  static DemoModelOptions Options() {
    DemoModelOptions options;
    options.users = 50;
    options.items = 300;
    options.d = 16;
    options.kind = std::get<0>(GetParam());
    options.ratio = 4;
    options.clamp_ratio = true;
    options.hash = std::get<2>(GetParam());
    options.user_mode = std::get<1>(GetParam());
    options.hidden = {8};
    options.rows.dtype = snapshot::INT8;
    return options;
  }
};

TEST_P(Int8ServingTest, EmbedsAndRanksExactlyAsTheDecodedFloatTables) {
  const Snapshot int8_snapshot = *MakeDemoSnapshot(Options());
  Snapshot decoded = DecodedCopy(int8_snapshot);
  auto int8_model = Model::Create(int8_snapshot.manifest, *CopyTensors(int8_snapshot.tensors));
  ASSERT_TRUE(int8_model.ok()) << int8_model.status();
  auto float_model = Model::Create(decoded.manifest, std::move(decoded.tensors));
  ASSERT_TRUE(float_model.ok()) << float_model.status();
  const Model& a = **int8_model;
  const Model& b = **float_model;

  // Every entity and some unknown ids embed bit-identically.
  for (size_t f = 0; f < a.features().size(); ++f) {
    const EmbeddingTable& ta = a.features()[f].table;
    const EmbeddingTable& tb = b.features()[f].table;
    EXPECT_EQ(ta.spec().row_dtype(), snapshot::INT8);
    std::vector<float> ea(ta.dim()), eb(ta.dim());
    for (uint64_t i = 0; i < ta.size(); ++i) {
      ta.Embed(i, ea.data());
      tb.Embed(i, eb.data());
      ASSERT_EQ(ea, eb) << ta.spec().feature() << " entity " << i;
    }
    for (uint64_t id : {ta.size(), ta.size() + 12345, ~uint64_t{0}}) {
      ta.EmbedUnknown(id, ea.data());
      tb.EmbedUnknown(id, eb.data());
      ASSERT_EQ(ea, eb) << ta.spec().feature() << " unknown id " << id;
    }
    // Rows take a quarter of their float bytes plus a scale each: the table is smaller.
    EXPECT_LT(ta.resident_bytes(), tb.resident_bytes());
  }

  // Whole-catalogue rankings (one stage) agree exactly: the scorer sees the same embeddings.
  RankScratch scratch_a, scratch_b;
  RankResult ra, rb;
  for (uint64_t user : {uint64_t{0}, uint64_t{7}, uint64_t{49}}) {
    RankQuery query;
    query.user_id = user;
    const std::vector<uint64_t> history = {user, user + 3, user * 5 + 1};
    if (a.history_mode()) query.history = history;
    query.k = 20;
    a.Rank(query, &scratch_a, &ra);
    b.Rank(query, &scratch_b, &rb);
    ASSERT_EQ(ra.items.size(), 20u);
    ASSERT_EQ(ra.items.size(), rb.items.size());
    for (size_t r = 0; r < ra.items.size(); ++r) {
      EXPECT_EQ(ra.items[r].id, rb.items[r].id) << "user " << user << " rank " << r;
      EXPECT_EQ(ra.items[r].score, rb.items[r].score) << "user " << user << " rank " << r;
    }
  }
}

// Each damage is refused by Model::Create with FAILED_PRECONDITION and a message naming it.
TEST_P(Int8ServingTest, DamagedInt8TablesAreRefused) {
  const Snapshot good = *MakeDemoSnapshot(Options());
  const TableSpec& item = good.manifest.tables(1);
  const std::string rows = TensorNameOf(FindTableLayout(item.kind())->tensors[0], item);
  const std::string scale = rows + "_scale";
  const auto expect_refused = [&](Snapshot s, const std::string& says) {
    auto model = Model::Create(s.manifest, std::move(s.tensors));
    ASSERT_FALSE(model.ok()) << "accepted; expected: " << says;
    EXPECT_EQ(model.status().code(), absl::StatusCode::kFailedPrecondition) << model.status();
    EXPECT_NE(model.status().message().find(says), std::string::npos) << model.status();
  };
  const auto copy = [&] { return Snapshot{good.manifest, *CopyTensors(good.tensors)}; };
  {
    Snapshot s = copy();
    s.tensors.erase(scale);
    expect_refused(std::move(s), scale);
  }
  {
    Snapshot s = copy();  // one scale short
    s.tensors[scale] = *MakeFloatTensor({s.tensors[scale].shape[0] - 1});
    expect_refused(std::move(s), scale);
  }
  {
    Snapshot s = copy();  // scales stored as int8
    s.tensors[scale] = *MakeInt8Tensor(s.tensors[scale].shape);
    expect_refused(std::move(s), scale);
  }
  {
    Snapshot s = copy();  // levels one column short
    std::vector<uint64_t> shape = s.tensors[rows].shape;
    shape[1] -= 1;
    s.tensors[rows] = *MakeInt8Tensor(shape);
    expect_refused(std::move(s), rows);
  }
  {
    Snapshot s = DecodedCopy(good);  // float rows under a spec that says int8
    s.manifest.mutable_tables(1)->set_row_dtype(snapshot::INT8);
    expect_refused(std::move(s), rows);
  }
  {
    Snapshot s = DecodedCopy(good);  // a float table carrying a stray scale tensor
    s.tensors[scale] = *MakeFloatTensor({1});
    expect_refused(std::move(s), scale);
  }
  {
    Snapshot s = copy();
    s.tensors[scale].bytes.as<float>()[0] = std::nanf("");
    expect_refused(std::move(s), scale);
  }
  for (float bad : {-0.5f, std::numeric_limits<float>::max()}) {
    Snapshot s = copy();  // a negative scale; one whose levels would decode to infinity
    s.tensors[scale].bytes.as<float>()[0] = bad;
    expect_refused(std::move(s), "must hold scales in [0, FLT_MAX / 127] (row 0)");
  }
  {
    Snapshot s = copy();
    s.manifest.mutable_tables(1)->set_row_dtype(snapshot::UINT64);
    expect_refused(std::move(s), "row dtype 2 (rows are float32, int8 or pq codes)");
  }
}

INSTANTIATE_TEST_SUITE_P(AllKinds, Int8ServingTest, testing::AllKindsModesAndHashes(),
                         testing::KindModeHashName);

}  // namespace
}  // namespace ranker
