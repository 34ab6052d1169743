// Head/tail pq rows (model/head_tail_rows.h): the most popular items get the head's codes, the
// rest the tail's; a served head/tail table embeds and ranks bit-identically to a float32 table
// holding its decoded rows (decoded here the long way, independently of the serving code),
// retrieval's two-lookup-table scores equal the dot products, the loaded bytes are what the
// budget rule counts, and damaged tables are refused naming the tensor.
#include "model/head_tail_rows.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include "model/demo_model.h"
#include "model/model.h"
#include "model/row_budget.h"
#include "model/table_layout.h"
#include "model/table_sizing.h"

namespace ranker {
namespace {

constexpr uint64_t kItems = 1300;  // not a multiple of 64 or of the 512-item rank blocks
constexpr uint32_t kDim = 32;

DemoModelOptions Options(const char* rows) {
  DemoModelOptions options;
  options.users = 40;
  options.items = kItems;
  options.d = kDim;
  options.kind = snapshot::FULL;
  options.user_mode = snapshot::USER_MODE_HISTORY;
  options.hidden = {8};
  options.rows = *ParseRowStorage(rows);
  return options;
}

uint32_t CodeOf(const uint8_t* row, uint32_t j, uint32_t bits) {
  return bits == 8 ? row[j] : (row[j / 2] >> ((j % 2) * 4)) & 0xF;
}

// Entity i's row, the long way: count the head entities before it, then decode its group's row.
std::vector<float> DecodeEntity(const TableSpec& spec, const TensorMap& tensors, uint64_t i) {
  const std::string rows = TableTensorName(spec.feature(), "embeddings");
  const auto bits = tensors.at(rows + "_head").bytes.as<uint64_t>();
  uint64_t head_before = 0;
  for (uint64_t e = 0; e < i; ++e) head_before += (bits[e / 64] >> (e % 64)) & 1;
  const bool head = (bits[i / 64] >> (i % 64)) & 1;
  const uint32_t subvectors = head ? spec.pq_subvectors() : spec.tail_pq_subvectors();
  const uint32_t code_bits = head ? spec.pq_bits() : spec.tail_pq_bits();
  const uint64_t row = head ? head_before : i - head_before;
  const uint8_t* codes = tensors.at(head ? rows : rows + "_tail").bytes.as<uint8_t>().data() +
                         row * subvectors * code_bits / 8;
  const float* codebook =
      tensors.at(head ? rows + "_codebook" : rows + "_tail_codebook").bytes.as<float>().data();
  const uint32_t sub = spec.d() / subvectors;
  std::vector<float> out(spec.d());
  for (uint32_t j = 0; j < subvectors; ++j) {
    const uint32_t code = CodeOf(codes, j, code_bits);
    std::copy_n(codebook + ((size_t{j} << code_bits) + code) * sub, sub, out.begin() + j * sub);
  }
  return out;
}

// A float32 copy of `snapshot` whose head/tail tables hold their decoded rows.
Snapshot DecodedCopy(const Snapshot& snapshot) {
  Snapshot copy{snapshot.manifest, *CopyTensors(snapshot.tensors)};
  for (TableSpec& spec : *copy.manifest.mutable_tables()) {
    if (!HasHeadTailRows(spec)) continue;
    const std::string rows = TableTensorName(spec.feature(), "embeddings");
    Tensor decoded = *MakeFloatTensor({spec.n(), spec.d()});
    for (uint64_t i = 0; i < spec.n(); ++i) {
      const std::vector<float> row = DecodeEntity(spec, snapshot.tensors, i);
      std::copy(row.begin(), row.end(), decoded.bytes.as<float>().begin() + i * spec.d());
    }
    copy.tensors[rows] = std::move(decoded);
    for (const char* suffix : {"_codebook", "_tail", "_tail_codebook", "_head"}) {
      copy.tensors.erase(rows + suffix);
    }
    SetRowStorage(RowStorage(), &spec);
  }
  return copy;
}

TEST(HeadTailRowsTest, NamesRoundTripAndBadOnesAreRefused) {
  for (const char* name : {"head20:pq32x8+pq8x8", "head5:pq32x4+pq2x4", "head99:pq4x8+pq2x4"}) {
    auto storage = ParseRowStorage(name);
    ASSERT_TRUE(storage.ok()) << name << ": " << storage.status();
    EXPECT_TRUE(IsHeadTail(*storage));
    EXPECT_EQ(RowStorageName(*storage), name);
  }
  for (const char* bad :
       {"head0:pq32x8+pq8x8", "head100:pq32x8+pq8x8", "head20:pq32x8", "head20:pq32x8+int8",
        "head:pq32x8+pq8x8", "head20pq32x8+pq8x8", "head20:pq32x8+pq8x3"}) {
    EXPECT_EQ(ParseRowStorage(bad).status().code(), absl::StatusCode::kInvalidArgument) << bad;
  }
}

TEST(HeadTailRowsTest, ThePopularItemsGetTheHeadCodes) {
  const Snapshot snapshot = *MakeDemoSnapshot(Options("head20:pq16x8+pq4x4"));
  for (const TableSpec& spec : snapshot.manifest.tables()) {
    ASSERT_TRUE(HasHeadTailRows(spec)) << spec.feature();
    EXPECT_EQ(spec.head_rows(), 260u);  // 20% of 1,300
    EXPECT_EQ(RowStorageName(RowStorageOf(spec)), "head20:pq16x8+pq4x4");
    // The demo's popularity falls with the index, so the head is items 0..259.
    const auto bits = snapshot.tensors.at(TableTensorName(spec.feature(), "embeddings") + "_head")
                          .bytes.as<uint64_t>();
    for (uint64_t i = 0; i < kItems; ++i) {
      EXPECT_EQ((bits[i / 64] >> (i % 64)) & 1, i < 260 ? 1u : 0u) << i;
    }
  }
}

TEST(HeadTailRowsTest, EmbedsScoresAndRanksExactlyAsTheDecodedFloatTables) {
  for (const char* storage : {"head20:pq16x8+pq4x4", "head30:pq8x4+pq16x8", "head5:pq32x4+pq2x4",
                              "head20:pq32x8+pq8x8"}) {
    SCOPED_TRACE(storage);
    const Snapshot snapshot = *MakeDemoSnapshot(Options(storage));
    Snapshot decoded = DecodedCopy(snapshot);
    auto ht_model = Model::Create(snapshot.manifest, *CopyTensors(snapshot.tensors));
    ASSERT_TRUE(ht_model.ok()) << ht_model.status();
    auto float_model = Model::Create(decoded.manifest, std::move(decoded.tensors));
    ASSERT_TRUE(float_model.ok()) << float_model.status();
    const Model& a = **ht_model;
    const Model& b = **float_model;
    int tables_scored = 0;
    for (size_t f = 0; f < a.features().size(); ++f) {
      const EmbeddingTable& ta = a.features()[f].table;
      const EmbeddingTable& tb = b.features()[f].table;
      std::vector<float> ea(kDim), eb(kDim);
      for (uint64_t i = 0; i < kItems; ++i) {
        ta.Embed(i, ea.data());
        tb.Embed(i, eb.data());
        ASSERT_EQ(ea, eb) << ta.spec().feature() << " entity " << i;
      }
      ta.EmbedUnknown(kItems + 5, ea.data());
      EXPECT_EQ(ea, std::vector<float>(kDim, 0.0f));
      // What is loaded is what the budget rule counts.
      EXPECT_EQ(ta.resident_bytes(), FullTableBytes(kItems, kDim, RowStorageOf(ta.spec())));
      EXPECT_EQ(StoredTableBytes(ta.spec()) + (kItems / 512 + 1) * 4, ta.resident_bytes());

      // Retrieval: ranges starting anywhere (across words and rank blocks) and single indices
      // score u . e_i up to float rounding.
      if (!ta.retrieval_enabled()) continue;
      ++tables_scored;
      std::vector<float> user(kDim);
      for (uint32_t k = 0; k < kDim; ++k) user[k] = std::sin(0.7f * k + 0.3f);
      DotQuery query;
      query.user = user.data();
      ta.PrepareDot(&query);
      for (uint64_t first : {uint64_t{0}, uint64_t{63}, uint64_t{500}, uint64_t{1000}}) {
        const size_t count = static_cast<size_t>(std::min<uint64_t>(290, kItems - first));
        std::vector<float> scores(count);
        ta.DotRange(query, first, count, scores.data());
        for (size_t r = 0; r < count; ++r) {
          tb.Embed(first + r, eb.data());
          float expected = 0;
          for (uint32_t k = 0; k < kDim; ++k) expected += eb[k] * user[k];
          ASSERT_NEAR(scores[r], expected, 1e-4f * (1 + std::fabs(expected)))
              << "entity " << first + r;
          float single;
          const uint64_t index = first + r;
          ta.DotIndices(query, &index, &index, 1, &single);
          ASSERT_EQ(single, scores[r]) << "entity " << index;
        }
      }
    }
    EXPECT_EQ(tables_scored, 1) << "the output table serves retrieval";
    RankScratch scratch_a, scratch_b;
    RankResult ra, rb;
    for (size_t retrieve_n : {size_t{0}, size_t{kItems}}) {
      for (uint64_t user : {uint64_t{0}, uint64_t{7}, uint64_t{39}}) {
        RankQuery query;
        query.user_id = user;
        const std::vector<uint64_t> history = {user, user + 300, user * 5 + 1000};
        query.history = history;
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
}

TEST(HeadTailRowsTest, DamagedTablesAreRefused) {
  const Snapshot good = *MakeDemoSnapshot(Options("head20:pq16x8+pq4x4"));
  const TableSpec& item = good.manifest.tables(1);
  const std::string rows = TableTensorName(item.feature(), "embeddings");
  const auto expect_refused = [&](Snapshot s, const std::string& says) {
    auto model = Model::Create(s.manifest, std::move(s.tensors));
    ASSERT_FALSE(model.ok()) << "accepted; expected: " << says;
    EXPECT_EQ(model.status().code(), absl::StatusCode::kFailedPrecondition) << model.status();
    EXPECT_NE(model.status().message().find(says), std::string::npos) << model.status();
  };
  const auto copy = [&] { return Snapshot{good.manifest, *CopyTensors(good.tensors)}; };
  for (const char* suffix : {"_tail", "_tail_codebook", "_head"}) {
    Snapshot s = copy();
    s.tensors.erase(rows + suffix);
    expect_refused(std::move(s), rows + suffix);
  }
  {
    Snapshot s = copy();  // one head item too many
    s.tensors[rows + "_head"].bytes.as<uint64_t>()[10] |= 1;
    expect_refused(std::move(s), "head bits mark 261 entities, not head_rows=260");
  }
  {
    Snapshot s = copy();  // a head bit past n (1,300 = 20 words + 20 bits)
    auto bits = s.tensors[rows + "_head"].bytes.as<uint64_t>();
    bits[0] &= ~uint64_t{1};
    bits[20] |= uint64_t{1} << 30;
    expect_refused(std::move(s), "head bits mark entities at or above n=1300");
  }
  {
    Snapshot s = copy();  // head_rows above n: the tail's shape would wrap
    s.manifest.mutable_tables(1)->set_head_rows(kItems + 1);
    expect_refused(std::move(s), "head_rows=1301 above n=1300");
  }
  {
    Snapshot s = copy();
    s.manifest.mutable_tables(1)->set_tail_pq_subvectors(3);
    expect_refused(std::move(s), "tail_pq_subvectors=3");
  }
  {
    Snapshot s = copy();  // tail codes one row short
    std::vector<uint64_t> shape = s.tensors[rows + "_tail"].shape;
    shape[0] -= 1;
    s.tensors[rows + "_tail"] = *MakeUint8Tensor(shape);
    expect_refused(std::move(s), rows + "_tail");
  }
  {
    Snapshot s = copy();
    s.tensors[rows + "_tail_codebook"].bytes.as<float>()[3] = std::nanf("");
    expect_refused(std::move(s), "holds nan");
  }
}

TEST(HeadTailRowsTest, ConversionRefusesWhatItCannotEncodeAndChangesNothing) {
  DemoModelOptions options = Options("float32");
  options.kind = snapshot::MEMCOM;
  options.ratio = 4;
  Snapshot memcom = *MakeDemoSnapshot(options);
  const std::vector<float> popularity(kItems, 1.0f);
  HeadTailOptions head_tail;
  TableSpec spec = memcom.manifest.tables(1);
  EXPECT_EQ(ConvertTableToHeadTailPq(head_tail, popularity, &spec, &memcom.tensors).code(),
            absl::StatusCode::kFailedPrecondition);

  Snapshot full = *MakeDemoSnapshot(Options("float32"));
  spec = full.manifest.tables(1);
  const size_t tensors = full.tensors.size();
  const std::vector<float> short_popularity(kItems - 1, 1.0f);
  EXPECT_EQ(ConvertTableToHeadTailPq(head_tail, short_popularity, &spec, &full.tensors).code(),
            absl::StatusCode::kFailedPrecondition);
  head_tail.tail.subvectors = 5;  // does not divide d
  EXPECT_EQ(ConvertTableToHeadTailPq(head_tail, popularity, &spec, &full.tensors).code(),
            absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(full.tensors.size(), tensors);
  EXPECT_FALSE(HasPqRows(spec));

  // A user-ID model has no popularity: the codec says what it needs.
  options = Options("head20:pq16x8+pq4x4");
  options.user_mode = snapshot::USER_MODE_ID;
  const absl::Status status = MakeDemoSnapshot(options).status();
  EXPECT_NE(status.message().find("needs the model's item popularity"), std::string::npos)
      << status;
}

TEST(HeadTailRowsTest, BudgetRuleChoosesHeadTailFromSixteenTimes) {
  // The frontier's catalogues (docs/frontier/frontier.md): 4-bit heads where 256-centroid
  // codebooks cost too much (ml-100k), 8-bit heads otherwise; then the largest head.
  EXPECT_EQ(RowStorageName(RecommendRowBudget(1682, 64, 16)->input), "head30:pq32x4+pq16x4");
  EXPECT_EQ(RowStorageName(RecommendRowBudget(9724, 64, 16)->input), "head15:pq32x8+pq4x4");
  EXPECT_EQ(RowStorageName(RecommendRowBudget(57289, 64, 16)->input), "head30:pq32x8+pq4x8");
  EXPECT_EQ(RowStorageName(RecommendRowBudget(9724, 64, 32)->input), "head20:pq32x4+pq8x4");
  EXPECT_EQ(RowStorageName(RecommendRowBudget(57289, 64, 32)->input), "head15:pq32x8+pq4x4");
  EXPECT_EQ(RowStorageName(RecommendRowBudget(57289, 64, 64)->input), "head5:pq32x8+pq2x4");
  // Below 16x, single code widths as before; and d without 32 sub-vectors has no head/tail.
  EXPECT_FALSE(IsHeadTail(RecommendRowBudget(57289, 64, 8)->input));
  EXPECT_FALSE(IsHeadTail(RecommendRowBudget(57289, 48, 16)->input));
}

}  // namespace
}  // namespace ranker

namespace ranker {
namespace {

// The edges: an empty head (1% of 40 items rounds to none), an empty tail (99% of 40 rounds to
// all), and a catalogue of whole words and rank blocks (1,024 items). Each still embeds as its
// decoded rows and scores as their dot products.
TEST(HeadTailRowsTest, EmptyGroupsAndWholeBlocksServeAsTheirDecodedRows) {
  struct Case {
    uint64_t items;
    const char* storage;
    uint64_t head_rows;
  };
  for (const Case& c : {Case{40, "head1:pq16x8+pq4x4", 0}, Case{40, "head99:pq16x8+pq4x4", 40},
                        Case{1024, "head20:pq32x8+pq8x8", 205}}) {
    const uint64_t items = c.items;
    SCOPED_TRACE(std::string(c.storage) + " over " + std::to_string(items));
    DemoModelOptions options = Options(c.storage);
    options.items = items;
    const Snapshot snapshot = *MakeDemoSnapshot(options);
    const TableSpec& spec = snapshot.manifest.tables(1);
    EXPECT_EQ(spec.head_rows(), c.head_rows);
    auto model = Model::Create(snapshot.manifest, *CopyTensors(snapshot.tensors));
    ASSERT_TRUE(model.ok()) << model.status();
    const EmbeddingTable& table = (*model)->item().table;
    ASSERT_TRUE(table.retrieval_enabled());
    std::vector<float> user(kDim), row(kDim), scores(items);
    for (uint32_t k = 0; k < kDim; ++k) user[k] = std::cos(0.3f * k);
    DotQuery query;
    query.user = user.data();
    table.PrepareDot(&query);
    table.DotRange(query, 0, items, scores.data());
    for (uint64_t i = 0; i < items; ++i) {
      table.Embed(i, row.data());
      ASSERT_EQ(row, DecodeEntity(spec, snapshot.tensors, i)) << "entity " << i;
      float expected = 0;
      for (uint32_t k = 0; k < kDim; ++k) expected += row[k] * user[k];
      ASSERT_NEAR(scores[i], expected, 1e-4f * (1 + std::fabs(expected))) << "entity " << i;
    }
  }
}

}  // namespace
}  // namespace ranker
