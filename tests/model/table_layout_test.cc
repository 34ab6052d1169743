// Every kind in snapshot.proto has a layout and a serving forward, and the layouts are
// internally consistent: names parse back, shapes follow the spec, sizing reaches its target.
#include "model/table_layout.h"

#include <gtest/gtest.h>

#include <set>

#include "model/table_forward.h"
#include "model/table_sizing.h"
#include "tests/support/table_kinds.h"

namespace ranker {
namespace {

class LayoutTest : public ::testing::TestWithParam<TableKind> {};

TEST_P(LayoutTest, KindHasLayoutAndForward) {
  const TableLayout* layout = FindTableLayout(GetParam());
  ASSERT_NE(layout, nullptr) << "declare the kind in model/table_layout.cc";
  EXPECT_NE(FindTableForward(GetParam()), nullptr) << "add its forward to model/table_forward.cc";
  EXPECT_NE(FindTableForward(GetParam(), snapshot::INT8), nullptr)
      << "add its int8-row forward to model/table_forward.cc";
  EXPECT_NE(layout->size, nullptr);
  ASSERT_FALSE(layout->tensors.empty());
  ASSERT_LE(layout->tensors.size(), kMaxTableTensors);
  EXPECT_EQ(*ParseTableKind(layout->name), GetParam());
  EXPECT_EQ(TableKindName(GetParam()), layout->name);
}

TEST_P(LayoutTest, ParametersComeFirstAndNamesAreUnique) {
  const TableLayout& layout = *FindTableLayout(GetParam());
  std::set<std::string> parts;
  bool seen_subset = false;
  for (const TensorLayout& tensor : layout.tensors) {
    EXPECT_TRUE(parts.insert(tensor.part).second) << tensor.part;
    EXPECT_NE(std::string(tensor.part), "id_map") << "id_map is the id map's tensor";
    if (tensor.role == TensorRole::kEntitySubset) seen_subset = true;
    EXPECT_FALSE(tensor.role == TensorRole::kParameter && seen_subset)
        << tensor.part << ": parameters must precede entity subsets (the trainer's order)";
  }
}

TEST_P(LayoutTest, SizingHitsTheTargetRatios) {
  for (double ratio : {4.0, 16.0}) {
    auto spec = SizeTable("item", GetParam(), 100000, 64, ratio);
    ASSERT_TRUE(spec.ok()) << spec.status();
    EXPECT_TRUE(CheckTableSpec(*spec).ok()) << CheckTableSpec(*spec);
    if (GetParam() != snapshot::FULL) {
      EXPECT_NEAR(100000.0 * 64 / TableParameters(*spec) / ratio, 1.0, 0.02) << ratio;
    }
  }
}

INSTANTIATE_TEST_SUITE_P(AllKinds, LayoutTest, ::testing::ValuesIn(testing::AllTableKindsInProto()),
                         [](const ::testing::TestParamInfo<TableKind>& param) {
                           return TableKindName(param.param);
                         });

TEST(LayoutTest, ShapesFollowTheSpec) {
  TableSpec spec;
  spec.set_n(10);
  spec.set_m(3);
  spec.set_d(4);
  spec.set_dedicated(2);
  EXPECT_EQ(ExtentOf(Extent::kN, spec), 10u);
  EXPECT_EQ(ExtentOf(Extent::kM, spec), 3u);
  EXPECT_EQ(ExtentOf(Extent::kQuotientRows, spec), 4u);  // ceil(10 / 3)
  EXPECT_EQ(ExtentOf(Extent::kDedicated, spec), 2u);
  EXPECT_EQ(TensorShape({"x", TensorRole::kParameter, Extent::kM, true, 0}, spec),
            (std::vector<uint64_t>{3, 4}));
  EXPECT_EQ(TensorShape({"x", TensorRole::kParameter, Extent::kN, false, 0}, spec),
            (std::vector<uint64_t>{10}));
  EXPECT_EQ(TensorDType({"x", TensorRole::kEntitySubset, Extent::kN, false, 0}), snapshot::UINT64);
}

// The sizing rules as they were before the layouts existed (values from the earlier
// model_store/table_sizing.cc, recomputed independently): moving them must change no table.
TEST(LayoutTest, SizingKeepsItsEarlierResults) {
  struct Case {
    TableKind kind;
    uint64_t n;
    uint32_t d;
    double ratio;
    bool clamp;
    uint64_t m, dedicated;
  };
  const Case cases[] = {
      {snapshot::FULL, 100000, 64, 4, false, 100000, 0},
      {snapshot::HASH, 100000, 64, 4, false, 25000, 0},
      {snapshot::HASH, 100000, 64, 16, false, 6250, 0},
      {snapshot::HASH, 943, 64, 16, false, 59, 0},
      {snapshot::QR, 100000, 64, 4, false, 24996, 0},
      {snapshot::QR, 100000, 64, 16, false, 6234, 0},
      {snapshot::QR, 1000, 8, 40, true, 32, 0},
      {snapshot::MEMCOM, 100000, 64, 4, false, 23438, 0},
      {snapshot::MEMCOM, 100000, 64, 16, false, 4688, 0},
      {snapshot::MEMCOM, 1682, 64, 16, false, 79, 0},
      {snapshot::MEMCOM, 1000, 32, 40, true, 1, 0},
      {snapshot::MEMCOM_FREQ, 100000, 64, 4, false, 11719, 11363},
      {snapshot::MEMCOM_FREQ, 100000, 64, 16, false, 2345, 2272},
      {snapshot::MEMCOM_FREQ, 1000, 32, 40, true, 1, 0},
      {snapshot::MEMCOM2, 100000, 64, 16, false, 1563, 0},
      {snapshot::MEMCOM2, 1682, 64, 16, false, 26, 0},
      {snapshot::MEMCOM2, 1000, 32, 20, true, 1, 0},
  };
  for (const Case& c : cases) {
    auto spec = SizeTable("t", c.kind, c.n, c.d, c.ratio, c.clamp);
    ASSERT_TRUE(spec.ok()) << spec.status();
    EXPECT_EQ(spec->m(), c.m) << TableKindName(c.kind) << " n=" << c.n << " ratio=" << c.ratio;
    EXPECT_EQ(spec->dedicated(), c.dedicated) << TableKindName(c.kind) << " n=" << c.n;
  }
  EXPECT_EQ(SizeTable("t", snapshot::MEMCOM, 1000, 32, 40).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(SizeTable("t", snapshot::MEMCOM_FREQ, 1000, 32, 40).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(SizeTable("t", snapshot::MEMCOM2, 1000, 32, 20).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(SizeTable("t", snapshot::QR, 1000, 8, 40).status().code(),
            absl::StatusCode::kInvalidArgument);
}

// The parameter counts README's table of kinds states, written out apart from the layouts
// (n = 1000, m = 37, d = 8, K = 5 dedicated rows; a uint64 id counts as two floats).
TEST(LayoutTest, ParametersAreThoseTheReadmeStates) {
  const uint64_t n = 1000, m = 37, d = 8, k = 5;
  const struct {
    TableKind kind;
    uint64_t parameters;
  } cases[] = {
      {snapshot::FULL, n * d},
      {snapshot::HASH, m * d},
      {snapshot::QR, ((n + m - 1) / m + m) * d},
      {snapshot::MEMCOM, m * d + n},
      {snapshot::MEMCOM_FREQ, m * d + n + k * (d + 2)},
      {snapshot::MEMCOM2, 2 * m * d + 2 * n},
  };
  for (const auto& c : cases) {
    TableSpec spec;
    spec.set_kind(c.kind);
    spec.set_n(n);
    spec.set_m(c.kind == snapshot::FULL ? n : m);
    spec.set_d(d);
    spec.set_dedicated(c.kind == snapshot::MEMCOM_FREQ ? k : 0);
    EXPECT_EQ(TableParameters(spec), c.parameters) << TableKindName(c.kind);
  }
}

TEST(LayoutTest, UnknownNamesListTheKinds) {
  auto kind = ParseTableKind("bloom");
  EXPECT_EQ(kind.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(kind.status().message().find("full, hash, qr, memcom, memcom_freq or memcom2"),
            std::string::npos)
      << kind.status();
}

}  // namespace
}  // namespace ranker
