// Retrieval scores in the compressed domain (table_dot.h) equal u . e_i computed the long way,
// from the serving forward's embedding, for every kind, both hashes, both row storages (float32,
// int8), any range split and unknown ids.
#include "model/table_dot.h"

#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <string>
#include <tuple>
#include <vector>

#include "model/demo_model.h"
#include "model/int8_rows.h"
#include "model/model.h"
#include "model/table_layout.h"
#include "model/table_sizing.h"
#include "tests/support/table_kinds.h"

namespace ranker {
namespace {

// u . e the long way, and the scale its rounding error is relative to (sum of |u_k e_k|).
struct LongDot {
  double value = 0, magnitude = 0;
};

LongDot DotOf(const std::vector<float>& user, const std::vector<float>& embedding) {
  LongDot dot;
  for (size_t k = 0; k < user.size(); ++k) {
    dot.value += double{user[k]} * embedding[k];
    dot.magnitude += std::abs(double{user[k]} * embedding[k]);
  }
  return dot;
}

void ExpectClose(float got, const LongDot& want, const std::string& where) {
  EXPECT_NEAR(got, want.value, 1e-5 * want.magnitude + 1e-30) << where;
}

// Bytes of a table's tensors as its layout declares them.
size_t TensorBytes(const TableSpec& spec) {
  if (HasInt8Rows(spec) || HasPqRows(spec)) return StoredTableBytes(spec);
  size_t bytes = 0;
  for (const TensorLayout& tensor : FindTableLayout(spec.kind())->tensors) {
    size_t elements = 1;
    for (uint64_t extent : TensorShape(tensor, spec)) elements *= extent;
    bytes += elements * (TensorDType(tensor) == snapshot::FLOAT32 ? 4 : 8);
  }
  return bytes;
}

// Row storage by name: float32, int8, and pq with 8-bit and 4-bit codes.
using Param = std::tuple<TableKind, snapshot::HashKind, const char*>;

class TableDotTest : public ::testing::TestWithParam<Param> {
 protected:
  void SetUp() override {
    DemoModelOptions options;
    options.users = 10;
    // More items than one retrieval block, and not a multiple of m: runs wrap mid-block.
    options.items = 2 * Model::kBlockSize + 77;
    options.d = 16;
    options.kind = std::get<0>(GetParam());
    options.ratio = 4;
    options.clamp_ratio = true;  // qr's user table (10 users) cannot reach 4x
    options.hash = std::get<1>(GetParam());
    options.rows = *ParseRowStorage(std::get<2>(GetParam()));
    options.hidden = {8};
    Snapshot snapshot = *MakeDemoSnapshot(options);
    auto model = Model::Create(snapshot.manifest, std::move(snapshot.tensors));
    ASSERT_TRUE(model.ok()) << model.status();
    model_ = *std::move(model);
    user_.resize(options.d);
    std::mt19937 random(7);
    std::uniform_real_distribution<float> uniform(-1.0f, 1.0f);
    for (float& x : user_) x = uniform(random);
    query_.user = user_.data();
    table().PrepareDot(&query_);
  }
  const EmbeddingTable& table() const { return model_->item().table; }
  LongDot Expected(uint64_t index) const {
    std::vector<float> e(table().dim());
    table().Embed(index, e.data());
    return DotOf(user_, e);
  }
  LongDot ExpectedUnknown(uint64_t raw_id) const {
    std::vector<float> e(table().dim());
    table().EmbedUnknown(raw_id, e.data());
    return DotOf(user_, e);
  }

  std::unique_ptr<const Model> model_;
  std::vector<float> user_;
  DotQuery query_;
};

TEST_P(TableDotTest, RangeScoresEqualTheLongWayForAnySplit) {
  const uint64_t n = table().size();
  for (uint64_t piece : {n, uint64_t{1024}, uint64_t{37}, uint64_t{1}}) {
    std::vector<float> scores(n);
    for (uint64_t first = 0; first < n; first += piece) {
      const size_t count = std::min(piece, n - first);
      table().DotRange(query_, first, count, scores.data() + first);
    }
    for (uint64_t i = 0; i < n; ++i) {
      ExpectClose(scores[i], Expected(i),
                  "piece " + std::to_string(piece) + " item " + std::to_string(i));
    }
  }
}

TEST_P(TableDotTest, IndexScoresEqualTheLongWayIncludingUnknownIds) {
  const uint64_t n = table().size();
  std::mt19937_64 random(11);
  std::vector<uint64_t> indices, raw_ids;
  for (int r = 0; r < 500; ++r) {
    if (r % 5 == 0) {
      // Unknown: just past the table, far past it, and the largest ids.
      const uint64_t raw = r % 3 == 0 ? n + r : r % 3 == 1 ? random() : ~uint64_t{0} - r;
      indices.push_back(EmbeddingTable::kUnknown);
      raw_ids.push_back(raw);
    } else {
      const uint64_t index = random() % n;
      indices.push_back(index);
      raw_ids.push_back(index);
    }
  }
  std::vector<float> scores(indices.size());
  table().DotIndices(query_, indices.data(), raw_ids.data(), indices.size(), scores.data());
  for (size_t r = 0; r < indices.size(); ++r) {
    const LongDot want =
        indices[r] == EmbeddingTable::kUnknown ? ExpectedUnknown(raw_ids[r]) : Expected(indices[r]);
    ExpectClose(scores[r], want,
                "entry " + std::to_string(r) + " raw id " + std::to_string(raw_ids[r]));
  }
}

TEST_P(TableDotTest, RowIndexIsBuiltOnlyWhereTheRowsAreNotIModM) {
  const TableSpec& spec = table().spec();
  const size_t tensor_bytes = TensorBytes(spec);
  const bool mixed_rows =
      spec.hash() == snapshot::MIX && spec.kind() != snapshot::FULL && spec.kind() != snapshot::QR;
  const size_t index_rows = spec.kind() == snapshot::MEMCOM_FREQ ? 1
                            : !mixed_rows                        ? 0
                            : spec.kind() == snapshot::MEMCOM2   ? 2
                                                                 : 1;
  EXPECT_EQ(table().resident_bytes(), tensor_bytes + index_rows * spec.n() * sizeof(uint32_t));
  // Only the scored table is retrieved from: the user table gets no index.
  const EmbeddingTable& users = model_->user().table;
  EXPECT_FALSE(users.retrieval_enabled());
  EXPECT_EQ(users.resident_bytes(), TensorBytes(users.spec()));
}

INSTANTIATE_TEST_SUITE_P(AllKinds, TableDotTest,
                         ::testing::Combine(::testing::ValuesIn(testing::AllTableKindsInProto()),
                                            ::testing::Values(snapshot::IDENTITY, snapshot::MIX),
                                            ::testing::Values("float32", "int8", "pq4x8", "pq8x4")),
                         [](const ::testing::TestParamInfo<Param>& param) {
                           return TableKindName(std::get<0>(param.param)) +
                                  (std::get<1>(param.param) == snapshot::MIX ? "_mix"
                                                                             : "_identity") +
                                  "_" + std::get<2>(param.param);
                         });

TEST(TableDotTest, EveryKindHasRetrievalScores) {
  for (TableKind kind : testing::AllTableKindsInProto()) {
    for (DType rows : {snapshot::FLOAT32, snapshot::INT8, snapshot::UINT8}) {
      EXPECT_NE(FindTableDot(kind, rows), nullptr)
          << "add " << TableKindName(kind) << " to model/table_dot.cc";
    }
  }
}

}  // namespace
}  // namespace ranker
