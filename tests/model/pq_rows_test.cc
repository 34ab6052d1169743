// Product-quantised rows (model/pq_rows.h, table_rows.h, table_dot.cc): k-means encoding, code
// packing, conversion of every kind's tables, and serving: a pq table embeds and ranks
// bit-identically to a float32 table holding its decoded rows, takes the bytes it claims, and
// damaged pq snapshots are refused naming the tensor.
#include "model/pq_rows.h"

#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <string>
#include <vector>

#include "model/demo_model.h"
#include "model/model.h"
#include "model/table_layout.h"
#include "model/table_rows.h"
#include "model/table_sizing.h"
#include "tests/support/table_kinds.h"

namespace ranker {
namespace {

// Row r decoded from an encoding, the long way.
std::vector<float> Decode(const PqEncoding& e, uint64_t r, uint32_t d, const PqOptions& o) {
  const uint32_t sub = d / o.subvectors, row_bytes = o.subvectors * o.bits / 8;
  std::vector<float> row(d);
  for (uint32_t j = 0; j < o.subvectors; ++j) {
    const uint8_t byte = e.codes[r * row_bytes + (o.bits == 8 ? j : j / 2)];
    const uint32_t code = o.bits == 8 ? byte : (j % 2 == 0 ? byte & 0xF : byte >> 4);
    for (uint32_t k = 0; k < sub; ++k) {
      row[j * sub + k] = e.codebook[((j << o.bits) + code) * sub + k];
    }
  }
  return row;
}

double SquaredError(const std::vector<float>& rows, const PqEncoding& e, uint64_t count, uint32_t d,
                    const PqOptions& o) {
  double error = 0;
  for (uint64_t r = 0; r < count; ++r) {
    const std::vector<float> decoded = Decode(e, r, d, o);
    for (uint32_t k = 0; k < d; ++k) error += std::pow(rows[r * d + k] - decoded[k], 2);
  }
  return error;
}

std::vector<float> Gaussian(uint64_t count, uint32_t d, uint64_t seed) {
  std::mt19937_64 random(seed);
  std::normal_distribution<float> normal;
  std::vector<float> rows(count * d);
  for (float& x : rows) x = normal(random);
  return rows;
}

TEST(PqRowsTest, RowsMadeOfFewSubVectorsAreEncodedExactly) {
  // 500 rows whose 4 sub-vectors each take one of 10 values: 16 centroids suffice, so k-means
  // (started from distinct sample points) must recover them and every row decodes to itself
  // (up to the rounding of a centroid as the mean of identical points).
  const uint32_t d = 8;
  const PqOptions options{4, 4, 20, 65536, 3};
  const std::vector<float> parts = Gaussian(10, 2, 5);
  std::mt19937_64 random(9);
  std::vector<float> rows(500 * d);
  for (uint64_t r = 0; r < 500; ++r) {
    for (uint32_t j = 0; j < 4; ++j) {
      const uint64_t pick = random() % 10;
      rows[r * d + 2 * j] = parts[pick * 2];
      rows[r * d + 2 * j + 1] = parts[pick * 2 + 1];
    }
  }
  const PqEncoding encoding = EncodePq(rows.data(), 500, d, options);
  EXPECT_EQ(encoding.codes.size(), 500u * 2);  // two 4-bit codes per byte
  EXPECT_EQ(encoding.codebook.size(), 4u * 16 * 2);
  EXPECT_LT(SquaredError(rows, encoding, 500, d, options), 1e-8);
}

TEST(PqRowsTest, FewerRowsThanCentroidsAreExactAndMoreBitsLoseLess) {
  const uint32_t d = 16;
  const std::vector<float> few = Gaussian(100, d, 1);
  const PqOptions eight{4, 8, 10, 65536, 1};
  EXPECT_EQ(SquaredError(few, EncodePq(few.data(), 100, d, eight), 100, d, eight), 0.0);

  const std::vector<float> many = Gaussian(3000, d, 2);
  const PqOptions four{4, 4, 10, 65536, 1};
  const double error8 = SquaredError(many, EncodePq(many.data(), 3000, d, eight), 3000, d, eight);
  const double error4 = SquaredError(many, EncodePq(many.data(), 3000, d, four), 3000, d, four);
  double total = 0;
  for (float x : many) total += double{x} * x;
  EXPECT_GT(error8, 0.0);
  EXPECT_LT(error8, error4);
  EXPECT_LT(error4, total);  // better than nothing
  // A sample of the rows fits the centroids, every row is encoded; same seed, same encoding.
  const PqOptions sampled{4, 4, 10, 500, 1};
  const PqEncoding a = EncodePq(many.data(), 3000, d, sampled);
  const PqEncoding b = EncodePq(many.data(), 3000, d, sampled);
  EXPECT_EQ(a.codes, b.codes);
  EXPECT_EQ(a.codebook, b.codebook);
  EXPECT_LT(SquaredError(many, a, 3000, d, sampled), total);
}

TEST(PqRowsTest, OnlyTheRowsOfATableAreConvertedAndCounted) {
  TableSpec spec = *SizeTable("item", snapshot::MEMCOM, 1000, 8, 4);
  TensorMap tensors;
  for (const TensorLayout& tensor : FindTableLayout(spec.kind())->tensors) {
    Tensor t = *MakeFloatTensor(TensorShape(tensor, spec));
    auto values = t.bytes.as<float>();
    for (size_t i = 0; i < values.size(); ++i) values[i] = 0.1234567f * static_cast<float>(i % 7);
    tensors[TensorNameOf(tensor, spec)] = std::move(t);
  }
  PqOptions options;
  options.subvectors = 2;
  options.bits = 4;
  ASSERT_TRUE(ConvertTableToPq(options, &spec, &tensors).ok());
  EXPECT_TRUE(HasPqRows(spec));
  EXPECT_EQ(RowStorageName(RowStorageOf(spec)), "pq2x4");
  const Tensor& codes = tensors["item/shared"];
  EXPECT_EQ(codes.dtype, snapshot::UINT8);
  EXPECT_EQ(codes.shape, (std::vector<uint64_t>{spec.m(), 1}));
  EXPECT_EQ(tensors["item/shared_codebook"].shape, (std::vector<uint64_t>{2 * 16, 4}));
  EXPECT_EQ(tensors["item/weight"].dtype, snapshot::FLOAT32);  // per-entity: as is
  EXPECT_EQ(tensors["item/weight"].bytes.as<float>()[1], 0.1234567f);
  // m rows of one byte of codes, 32 centroids of 4 floats, n float weights.
  EXPECT_EQ(StoredTableBytes(spec), spec.m() * 1 + 32 * 4 * 4 + 1000 * 4);
  EXPECT_EQ(ConvertTableToPq(options, &spec, &tensors).code(),
            absl::StatusCode::kFailedPrecondition);  // already pq
}

TEST(PqRowsTest, BadOptionsAndNonFiniteTablesAreRefusedUnchanged) {
  TableSpec spec = *SizeTable("item", snapshot::MEMCOM2, 50, 8, 2);
  TensorMap tensors;
  for (const TensorLayout& tensor : FindTableLayout(spec.kind())->tensors) {
    tensors[TensorNameOf(tensor, spec)] = *MakeFloatTensor(TensorShape(tensor, spec));
  }
  for (const PqOptions& bad : {PqOptions{3, 8}, PqOptions{8, 5}, PqOptions{1, 4}}) {
    const absl::Status status = ConvertTableToPq(bad, &spec, &tensors);
    EXPECT_EQ(status.code(), absl::StatusCode::kFailedPrecondition) << status;
  }
  // memcom2 has two row tensors: a NaN in the second must leave the first as float32 too.
  tensors["item/shared2"].bytes.as<float>()[3] = std::nanf("");
  const absl::Status status = ConvertTableToPq(PqOptions{4, 8}, &spec, &tensors);
  EXPECT_EQ(status.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_NE(status.message().find("item/shared2 holds a non-finite value"), std::string::npos)
      << status;
  EXPECT_EQ(tensors["item/shared"].dtype, snapshot::FLOAT32);
  EXPECT_FALSE(tensors.contains("item/shared_codebook"));
  EXPECT_FALSE(HasPqRows(spec));
  EXPECT_EQ(spec.pq_subvectors(), 0u);
}

TEST(PqRowsTest, RowStorageNamesRoundTrip) {
  for (const char* name : {"float32", "int8", "pq16x8", "pq8x4"}) {
    auto storage = ParseRowStorage(name);
    ASSERT_TRUE(storage.ok()) << name;
    EXPECT_EQ(RowStorageName(*storage), name);
  }
  for (const char* bad : {"pq", "pq16", "pq16x3", "pq0x8", "pqx8", "fp16", "pq16x8x2"}) {
    EXPECT_EQ(ParseRowStorage(bad).status().code(), absl::StatusCode::kInvalidArgument) << bad;
  }
}

// A float32 copy of `snapshot` whose pq tables hold the rows their codes decode to.
Snapshot DecodedCopy(const Snapshot& snapshot) {
  Snapshot copy{snapshot.manifest, *CopyTensors(snapshot.tensors)};
  for (TableSpec& spec : *copy.manifest.mutable_tables()) {
    if (!HasPqRows(spec)) continue;
    for (const TensorLayout& tensor : FindTableLayout(spec.kind())->tensors) {
      if (!IsRowTensor(tensor)) continue;
      const std::string name = TensorNameOf(tensor, spec);
      const std::string codebook_name = CodebookTensorNameOf(tensor, spec);
      PqEncoding encoding;
      const auto codes = copy.tensors[name].bytes.as<uint8_t>();
      const auto codebook = copy.tensors[codebook_name].bytes.as<float>();
      encoding.codes.assign(codes.begin(), codes.end());
      encoding.codebook.assign(codebook.begin(), codebook.end());
      const PqOptions options{spec.pq_subvectors(), spec.pq_bits()};
      const uint64_t rows = ExtentOf(tensor.rows, spec);
      Tensor decoded = *MakeFloatTensor(TensorShape(tensor, spec));
      auto values = decoded.bytes.as<float>();
      for (uint64_t r = 0; r < rows; ++r) {
        const std::vector<float> row = Decode(encoding, r, spec.d(), options);
        std::copy(row.begin(), row.end(), values.begin() + r * spec.d());
      }
      copy.tensors[name] = std::move(decoded);
      copy.tensors.erase(codebook_name);
    }
    SetRowStorage(RowStorage(), &spec);
  }
  return copy;
}

using Param = testing::KindModeHash;

class PqServingTest : public ::testing::TestWithParam<Param> {
 protected:
  static DemoModelOptions Options() {
    DemoModelOptions options;
    options.users = 50;
    options.items = 600;
    options.d = 16;
    options.kind = std::get<0>(GetParam());
    options.ratio = 2;
    options.clamp_ratio = true;
    options.hash = std::get<2>(GetParam());
    options.user_mode = std::get<1>(GetParam());
    options.hidden = {8};
    options.rows = *ParseRowStorage("pq4x4");  // 16 centroids: fewer than most tables' rows
    return options;
  }
};

TEST_P(PqServingTest, EmbedsAndRanksExactlyAsTheDecodedFloatTables) {
  const Snapshot pq_snapshot = *MakeDemoSnapshot(Options());
  Snapshot decoded = DecodedCopy(pq_snapshot);
  auto pq_model = Model::Create(pq_snapshot.manifest, *CopyTensors(pq_snapshot.tensors));
  ASSERT_TRUE(pq_model.ok()) << pq_model.status();
  auto float_model = Model::Create(decoded.manifest, std::move(decoded.tensors));
  ASSERT_TRUE(float_model.ok()) << float_model.status();
  const Model& a = **pq_model;
  const Model& b = **float_model;

  for (size_t f = 0; f < a.features().size(); ++f) {
    const EmbeddingTable& ta = a.features()[f].table;
    const EmbeddingTable& tb = b.features()[f].table;
    EXPECT_TRUE(HasPqRows(ta.spec()));
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
    EXPECT_EQ(ta.resident_bytes() - (tb.resident_bytes() - TableParameters(tb.spec()) * 4),
              StoredTableBytes(ta.spec()));
  }

  // Whole-catalogue rankings agree exactly in one stage (the scorer sees the same embeddings)
  // and in two (retrieval's lookup-table scores order the items as the decoded floats do, up to
  // ties within float rounding, which the scorer then scores identically).
  RankScratch scratch_a, scratch_b;
  RankResult ra, rb;
  for (size_t retrieve_n : {size_t{0}, size_t{600}}) {
    for (uint64_t user : {uint64_t{0}, uint64_t{7}, uint64_t{49}}) {
      RankQuery query;
      query.user_id = user;
      const std::vector<uint64_t> history = {user, user + 3, user * 5 + 1};
      if (a.history_mode()) query.history = history;
      query.k = 20;
      query.retrieve_n = retrieve_n;
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
}

// Each damage is refused by Model::Create with FAILED_PRECONDITION and a message naming it.
TEST_P(PqServingTest, DamagedPqTablesAreRefused) {
  const Snapshot good = *MakeDemoSnapshot(Options());
  const TableSpec& item = good.manifest.tables(1);
  const std::string rows = TensorNameOf(FindTableLayout(item.kind())->tensors[0], item);
  const std::string codebook = rows + "_codebook";
  const auto expect_refused = [&](Snapshot s, const std::string& says) {
    auto model = Model::Create(s.manifest, std::move(s.tensors));
    ASSERT_FALSE(model.ok()) << "accepted; expected: " << says;
    EXPECT_EQ(model.status().code(), absl::StatusCode::kFailedPrecondition) << model.status();
    EXPECT_NE(model.status().message().find(says), std::string::npos) << model.status();
  };
  const auto copy = [&] { return Snapshot{good.manifest, *CopyTensors(good.tensors)}; };
  {
    Snapshot s = copy();
    s.tensors.erase(codebook);
    expect_refused(std::move(s), codebook);
  }
  {
    Snapshot s = copy();  // one centroid short
    std::vector<uint64_t> shape = s.tensors[codebook].shape;
    shape[0] -= 1;
    s.tensors[codebook] = *MakeFloatTensor(shape);
    expect_refused(std::move(s), codebook);
  }
  {
    Snapshot s = copy();
    s.tensors[codebook].bytes.as<float>()[5] = std::nanf("");
    expect_refused(std::move(s), "'" + codebook + "' holds nan");
  }
  {
    Snapshot s = copy();  // codes one byte short per row
    std::vector<uint64_t> shape = s.tensors[rows].shape;
    shape[1] -= 1;
    s.tensors[rows] = *MakeUint8Tensor(shape);
    expect_refused(std::move(s), rows);
  }
  {
    Snapshot s = copy();  // codes stored as int8
    s.tensors[rows] = *MakeInt8Tensor(s.tensors[rows].shape);
    expect_refused(std::move(s), rows);
  }
  {
    Snapshot s = DecodedCopy(good);  // float rows under a spec that says pq
    SetRowStorage(*ParseRowStorage("pq4x4"), s.manifest.mutable_tables(1));
    expect_refused(std::move(s), rows);
  }
  {
    Snapshot s = copy();  // sub-vectors that do not divide d
    s.manifest.mutable_tables(1)->set_pq_subvectors(3);
    expect_refused(std::move(s), "pq_subvectors=3 pq_bits=4 for d=16");
  }
  {
    Snapshot s = copy();
    s.manifest.mutable_tables(1)->set_pq_bits(6);
    expect_refused(std::move(s), "pq_subvectors=4 pq_bits=6");
  }
  {
    Snapshot s = DecodedCopy(good);  // pq fields on a float table
    s.manifest.mutable_tables(1)->set_pq_bits(8);
    expect_refused(std::move(s), "has pq fields but its rows are not pq codes");
  }
}

INSTANTIATE_TEST_SUITE_P(AllKinds, PqServingTest, testing::AllKindsModesAndHashes(),
                         testing::KindModeHashName);

}  // namespace
}  // namespace ranker
