// Simulated int8 rows: per-row scale, rounding error, which tensors are rounded, and the bytes
// such a table would take.
#include "trainer/int8_rows.h"

#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "model/table_layout.h"
#include "model/table_sizing.h"

namespace ranker {
namespace {

TEST(Int8RowsTest, RowsKeepTheirMaximumAndMoveByHalfAStepAtMost) {
  std::vector<float> rows = {0.5f, -1.27f, 0.013f, 0.0f,   // max |x| 1.27: step 0.01
                             0.0f, 0.0f,   0.0f,   0.0f};  // a zero row stays zero
  const std::vector<float> before = rows;
  QuantizeRowsInt8(rows.data(), 2, 4);
  EXPECT_FLOAT_EQ(rows[1], -1.27f);
  for (size_t k = 0; k < 4; ++k) {
    EXPECT_LE(std::abs(rows[k] - before[k]), 0.005f + 1e-6f) << k;
    const float level = rows[k] / 0.01f;
    EXPECT_NEAR(level, std::round(level), 1e-3) << k;
  }
  for (size_t k = 4; k < 8; ++k) EXPECT_EQ(rows[k], 0.0f);
}

TEST(Int8RowsTest, OnlyTheRowsOfATableAreRoundedAndCounted) {
  const TableSpec spec = *SizeTable("item", snapshot::MEMCOM, 100, 8, 4);
  TensorMap tensors;
  for (const TensorLayout& tensor : FindTableLayout(spec.kind())->tensors) {
    Tensor t = *MakeFloatTensor(TensorShape(tensor, spec));
    auto values = t.bytes.as<float>();
    for (size_t i = 0; i < values.size(); ++i) values[i] = 0.1234567f * static_cast<float>(i % 7);
    tensors[TensorNameOf(tensor, spec)] = std::move(t);
  }
  ASSERT_TRUE(QuantizeTableInt8(spec, &tensors).ok());
  EXPECT_NE(tensors["item/shared"].bytes.as<float>()[1], 0.1234567f);  // rounded
  EXPECT_EQ(tensors["item/weight"].bytes.as<float>()[1], 0.1234567f);  // per-entity: as is
  // m rows of d int8 levels and a float scale, n float weights.
  EXPECT_EQ(Int8TableBytes(spec), spec.m() * (8 + 4) + 100 * 4);
  tensors.erase("item/shared");
  EXPECT_EQ(QuantizeTableInt8(spec, &tensors).code(), absl::StatusCode::kFailedPrecondition);
}

}  // namespace
}  // namespace ranker
