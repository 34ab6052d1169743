#include "model/model.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <functional>
#include <random>

#include "model/demo_model.h"
#include "model/embedding_table.h"
#include "model/id_hash.h"
#include "model/table_sizing.h"
#include "tests/support/table_kinds.h"

namespace ranker {
namespace {

DemoModelOptions Options(TableKind kind, bool sparse = false) {
  DemoModelOptions options;
  options.users = 97;
  options.items = 211;
  options.d = 8;
  options.kind = kind;
  options.ratio = 3;
  options.hidden = {24, 12};
  options.dot_weight = 0.5f;
  options.sparse_item_ids = sparse;
  options.hash = snapshot::MIX;
  return options;
}

std::unique_ptr<const Model> Build(const DemoModelOptions& options) {
  Snapshot snapshot = *MakeDemoSnapshot(options);
  auto model = Model::Create(snapshot.manifest, std::move(snapshot.tensors));
  EXPECT_TRUE(model.ok()) << model.status();
  return *std::move(model);
}

const float* Floats(const Snapshot& s, const std::string& name) {
  return s.tensors.at(name).bytes.as<float>().data();
}

// The embedding of dense index i, straight from the definitions in DESIGN.md.
std::vector<float> NaiveEmbedding(const Snapshot& s, const TableSpec& spec, uint64_t i) {
  const std::string& f = spec.feature();
  const uint64_t d = spec.d(), m = spec.m();
  const uint64_t h = HashId(spec.hash(), spec.hash_seed(), i) % m;
  std::vector<float> e(d);
  for (uint64_t k = 0; k < d; ++k) {
    switch (spec.kind()) {
      case snapshot::FULL:
        e[k] = Floats(s, f + "/embeddings")[i * d + k];
        break;
      case snapshot::HASH:
        e[k] = Floats(s, f + "/shared")[h * d + k];
        break;
      case snapshot::MEMCOM:
        e[k] = Floats(s, f + "/shared")[h * d + k] * Floats(s, f + "/weight")[i];
        break;
      case snapshot::MEMCOM_FREQ: {
        const auto ids = s.tensors.at(f + "/dedicated_ids").bytes.as<uint64_t>();
        auto it = std::find(ids.begin(), ids.end(), i);
        const float base = it != ids.end() ? Floats(s, f + "/dedicated")[(it - ids.begin()) * d + k]
                                           : Floats(s, f + "/shared")[h * d + k];
        e[k] = base * Floats(s, f + "/weight")[i];
        break;
      }
      case snapshot::MEMCOM2: {
        const uint64_t h2 =
            spec.hash() == snapshot::MIX
                ? HashId(snapshot::MIX, spec.hash_seed() ^ 0x9e3779b97f4a7c15ULL, i) % m
                : (i / m) % m;
        e[k] = std::fma(Floats(s, f + "/shared2")[h2 * d + k], Floats(s, f + "/weight2")[i],
                        Floats(s, f + "/shared")[h * d + k] * Floats(s, f + "/weight")[i]);
        break;
      }
      case snapshot::QR:
        e[k] = Floats(s, f + "/quotient")[(i / m) * d + k] *
               Floats(s, f + "/remainder")[(i % m) * d + k];
        break;
      default:
        break;
    }
  }
  return e;
}

class TableKindTest : public ::testing::TestWithParam<TableKind> {};

TEST_P(TableKindTest, EmbeddingsEqualNaiveReference) {
  const DemoModelOptions options = Options(GetParam());
  Snapshot reference = *MakeDemoSnapshot(options);
  auto model = Build(options);
  for (const Feature* feature : {&model->user(), &model->item()}) {
    const TableSpec& spec = feature->table.spec();
    std::vector<float> got(spec.d());
    for (uint64_t i = 0; i < spec.n(); ++i) {
      feature->table.Embed(i, got.data());
      EXPECT_EQ(got, NaiveEmbedding(reference, spec, i)) << spec.feature() << " " << i;
    }
  }
}

TEST_P(TableKindTest, BatchedScoresEqualPerCandidateMlp) {
  auto model = Build(Options(GetParam()));
  const uint32_t d = model->user().table.dim();
  RankScratch scratch;
  std::vector<float> user(d), item(d);
  for (uint64_t u : {0u, 5u, 96u}) {
    model->EmbedUser(u, user.data());
    RankResult result;
    model->Rank(u, {}, model->item().table.size(), &scratch, &result);
    ASSERT_EQ(result.items.size(), model->item().table.size());
    for (const ScoredId& scored : result.items) {
      model->EmbedItem(scored.id, item.data());
      const float expected = model->scorer().ScoreOne(user.data(), item.data());
      EXPECT_NEAR(scored.score, expected, 1e-5 * std::max(1.0f, std::abs(expected)))
          << "user " << u << " item " << scored.id;
    }
  }
}

TEST_P(TableKindTest, CompressionRatioMatchesParameters) {
  auto model = Build(Options(GetParam()));
  double full = 0, params = 0;
  for (const Feature* f : {&model->user(), &model->item()}) {
    full += f->table.size() * f->table.dim();
    params += TableParameters(f->table.spec());
    EXPECT_EQ(f->table.parameters(), TableParameters(f->table.spec()));
  }
  EXPECT_DOUBLE_EQ(model->compression_ratio(), full / params);
  if (GetParam() != snapshot::FULL) {
    EXPECT_NEAR(model->compression_ratio(), 3.0, 0.3);
  }
}

INSTANTIATE_TEST_SUITE_P(AllKinds, TableKindTest,
                         ::testing::ValuesIn(testing::AllTableKindsInProto()),
                         [](const ::testing::TestParamInfo<TableKind>& param) {
                           return TableKindName(param.param);
                         });

TEST(ModelTest, TopKEqualsFullSortWithTiesDuplicatesAndSmallCandidateLists) {
  auto model = Build(Options(snapshot::HASH));  // hash collisions give exact score ties
  std::mt19937_64 rng(1);
  RankScratch scratch;
  RankResult result;
  std::vector<float> user(8), item(8);
  for (int trial = 0; trial < 200; ++trial) {
    const uint64_t u = rng() % 120;  // some users unknown
    std::vector<uint64_t> candidates(1 + rng() % 60);
    for (uint64_t& c : candidates) c = rng() % 230;  // duplicates and unknown items
    const size_t k = 1 + rng() % 70;                 // often k > candidates
    model->Rank(u, candidates, k, &scratch, &result);

    std::vector<uint64_t> unique = candidates;
    std::sort(unique.begin(), unique.end());
    unique.erase(std::unique(unique.begin(), unique.end()), unique.end());
    // Every unique candidate scored (same batch, so bit-identical scores), then fully sorted.
    RankResult everything;
    RankScratch other;
    model->Rank(u, candidates, unique.size(), &other, &everything);
    ASSERT_EQ(everything.items.size(), unique.size());
    std::vector<ScoredId> expected = everything.items;
    std::vector<uint64_t> ids;
    model->EmbedUser(u, user.data());
    for (const ScoredId& s : expected) {
      ids.push_back(s.id);
      model->EmbedItem(s.id, item.data());
      const float reference = model->scorer().ScoreOne(user.data(), item.data());
      EXPECT_NEAR(s.score, reference, 1e-5 * std::max(1.0f, std::abs(reference)));
    }
    std::sort(ids.begin(), ids.end());
    EXPECT_EQ(ids, unique) << "each candidate exactly once";
    std::stable_sort(expected.begin(), expected.end(), RanksBefore);
    EXPECT_EQ(everything.items.size(), expected.size());
    expected.resize(std::min(k, expected.size()));
    ASSERT_EQ(result.items.size(), expected.size()) << trial;
    for (size_t r = 0; r < expected.size(); ++r) {
      EXPECT_EQ(result.items[r].id, expected[r].id) << trial << " rank " << r;
      EXPECT_EQ(result.items[r].score, expected[r].score) << trial << " rank " << r;
    }
    size_t unknown = 0;
    for (uint64_t id : unique) unknown += id >= 211;
    EXPECT_EQ(result.unknown_items, unknown);
    EXPECT_EQ(result.unknown_users, u >= 97 ? 1u : 0u);
  }
}

TEST(ModelTest, TiesBreakToTheLowerIdAndWholeCatalogueMatchesExplicitList) {
  DemoModelOptions options = Options(snapshot::HASH);
  options.ratio = 50;  // m = 4 for 211 items: many items share a row, so many exact ties
  auto model = Build(options);
  RankScratch scratch;
  RankResult all, listed;
  model->Rank(3, {}, 211, &scratch, &all);
  std::vector<uint64_t> every(211);
  for (uint64_t i = 0; i < 211; ++i) every[210 - i] = i;
  model->Rank(3, every, 211, &scratch, &listed);
  ASSERT_EQ(all.items.size(), 211u);
  for (size_t r = 0; r < all.items.size(); ++r) {
    EXPECT_EQ(all.items[r].id, listed.items[r].id);
    if (r > 0 && all.items[r].score == all.items[r - 1].score) {
      EXPECT_LT(all.items[r - 1].id, all.items[r].id);
    }
  }
}

TEST(ModelTest, SparseIdsUseTheIdMapAndCountInMemory) {
  auto model = Build(Options(snapshot::MEMCOM, /*sparse=*/true));
  EXPECT_FALSE(model->item().ids.dense());
  EXPECT_EQ(model->item().ids.ToIndex(7 * 5 + 3), std::optional<uint64_t>(5));
  EXPECT_EQ(model->item().ids.ToIndex(5), std::nullopt);
  EXPECT_EQ(model->table_resident_bytes(model->item()),
            model->item().table.resident_bytes() + 211 * sizeof(uint64_t));
  RankScratch scratch;
  RankResult result;
  model->Rank(1, {}, 5, &scratch, &result);
  for (const ScoredId& s : result.items) EXPECT_EQ(s.id % 7, 3u) << "wire ids come back";
  model->Rank(1, std::vector<uint64_t>{38, 5}, 5, &scratch, &result);
  EXPECT_EQ(result.unknown_items, 1u);  // 5 is not a wire id of this model
}

TEST(ModelTest, UnknownIdsUseTheHashedRowWithWeightOne) {
  DemoModelOptions options = Options(snapshot::MEMCOM);
  Snapshot reference = *MakeDemoSnapshot(options);
  auto model = Build(options);
  const TableSpec& spec = model->user().table.spec();
  std::vector<float> got(8);
  const uint64_t unknown = 123456;
  model->EmbedUser(unknown, got.data());
  const uint64_t row = HashId(spec.hash(), spec.hash_seed(), unknown) % spec.m();
  for (int k = 0; k < 8; ++k) EXPECT_EQ(got[k], Floats(reference, "user/shared")[row * 8 + k]);
}

// Every way a snapshot can disagree with its manifest is FAILED_PRECONDITION, with a message
// that names the tensor or table at fault.
TEST(ModelTest, CreateRefusesEveryInconsistentSnapshotWithFailedPrecondition) {
  struct Case {
    std::string name;
    TableKind kind;
    std::function<void(Snapshot*)> damage;
    std::string message;  // must appear in the error
  };
  const std::vector<Case> cases = {
      {"missing tensor", snapshot::MEMCOM, [](Snapshot* s) { s->tensors.erase("item/weight"); },
       "tensor 'item/weight' is missing"},
      {"misshapen mlp", snapshot::MEMCOM,
       [](Snapshot* s) {
         s->tensors["mlp/1/weight"].shape = {12, 25};
       },
       "mlp/1/weight"},
      {"wrong dtype", snapshot::MEMCOM,
       [](Snapshot* s) { s->tensors["user/shared"].dtype = snapshot::UINT64; }, "user/shared"},
      {"extra tensor", snapshot::MEMCOM,
       [](Snapshot* s) { s->tensors["extra/thing"] = *MakeFloatTensor({2}); }, "extra/thing"},
      {"not finite", snapshot::MEMCOM,
       [](Snapshot* s) { s->tensors["user/shared"].bytes.as<float>()[3] = std::nanf(""); },
       "user/shared"},
      {"spec disagrees with tensors", snapshot::MEMCOM,
       [](Snapshot* s) { s->manifest.mutable_tables(1)->set_n(500); }, "item/weight"},
      {"unknown kind", snapshot::MEMCOM,
       [](Snapshot* s) { s->manifest.mutable_tables(0)->set_kind(static_cast<TableKind>(99)); },
       "unknown kind 99"},
      {"m of 0", snapshot::HASH, [](Snapshot* s) { s->manifest.mutable_tables(0)->set_m(0); },
       "table 'user' has n=97 m=0"},
      {"full with m != n", snapshot::FULL,
       [](Snapshot* s) { s->manifest.mutable_tables(0)->set_m(3); }, "full needs m == n"},
      {"missing id map", snapshot::MEMCOM,
       [](Snapshot* s) { s->manifest.mutable_tables(0)->set_has_id_map(true); },
       "tensor 'user/id_map' is missing"},
      {"unsorted entity subset", snapshot::MEMCOM_FREQ,
       [](Snapshot* s) {
         auto ids = s->tensors["item/dedicated_ids"].bytes.as<uint64_t>();
         std::swap(ids[0], ids[1]);
       },
       "item/dedicated_ids' must hold increasing indices below n"},
      {"two tables of one feature", snapshot::MEMCOM,
       [](Snapshot* s) { *s->manifest.add_tables() = s->manifest.tables(0); },
       "manifest has two 'user' tables"},
      {"no item table", snapshot::MEMCOM,
       [](Snapshot* s) {
         s->manifest.mutable_tables()->RemoveLast();
         for (const char* part : {"item/shared", "item/weight"}) s->tensors.erase(part);
       },
       "manifest has no 'item' table"},
  };
  for (const Case& c : cases) {
    Snapshot s = *MakeDemoSnapshot(Options(c.kind));
    c.damage(&s);
    auto model = Model::Create(s.manifest, std::move(s.tensors));
    EXPECT_EQ(model.status().code(), absl::StatusCode::kFailedPrecondition)
        << c.name << ": " << model.status();
    EXPECT_THAT(std::string(model.status().message()), ::testing::HasSubstr(c.message)) << c.name;
  }
}

TEST(TableSizingTest, HitsTheTargetRatioOrExplainsWhyNot) {
  for (TableKind kind : {snapshot::HASH, snapshot::QR, snapshot::MEMCOM, snapshot::MEMCOM_FREQ}) {
    for (double ratio : {4.0, 16.0}) {
      auto spec = SizeTable("item", kind, 100000, 64, ratio);
      ASSERT_TRUE(spec.ok()) << spec.status();
      const double got = 100000.0 * 64 / TableParameters(*spec);
      EXPECT_NEAR(got / ratio, 1.0, 0.02) << TableKindName(kind) << " " << ratio;
    }
  }
  EXPECT_EQ(SizeTable("u", snapshot::MEMCOM, 1000, 32, 40).status().code(),
            absl::StatusCode::kInvalidArgument);  // memcom caps below d
  EXPECT_EQ(SizeTable("u", snapshot::QR, 100, 8, 50).status().code(),
            absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace ranker
