// History models (user_mode=history): the user vector is the mean of the "item_in" rows of the
// items in the history, items are scored with their "item" rows; seen and excluded items are
// not returned; without a usable history the ranking is by popularity.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <set>

#include "model/demo_model.h"
#include "model/model.h"
#include "model/table_layout.h"
#include "tests/support/table_kinds.h"

namespace ranker {
namespace {

constexpr uint32_t kD = 8;

DemoModelOptions HistoryOptions(TableKind kind) {
  DemoModelOptions options;
  options.user_mode = snapshot::USER_MODE_HISTORY;
  options.users = 300;
  options.items = 157;
  options.d = kD;
  options.kind = kind;
  options.ratio = 3;
  options.clamp_ratio = true;
  options.hidden = {12, 6};
  options.dot_weight = 0.5f;
  options.sparse_item_ids = true;  // wire id = 7 * index + 3
  options.hash = snapshot::MIX;
  return options;
}

std::unique_ptr<const Model> Build(const DemoModelOptions& options) {
  Snapshot snapshot = *MakeDemoSnapshot(options);
  auto model = Model::Create(snapshot.manifest, std::move(snapshot.tensors));
  EXPECT_TRUE(model.ok()) << model.status();
  return *std::move(model);
}

uint64_t WireId(uint64_t index) { return 7 * index + 3; }

class HistoryKindTest : public ::testing::TestWithParam<TableKind> {};

// Every score equals the textbook computation: the mean of the input rows (summed in double
// here), then the scorer's per-pair reference on the item's output row.
TEST_P(HistoryKindTest, ScoresEqualNaivePoolingAndScoring) {
  auto model = Build(HistoryOptions(GetParam()));
  ASSERT_TRUE(model->history_mode());
  const std::vector<uint64_t> history = {WireId(5), WireId(17), WireId(5), WireId(150), 999999};
  std::vector<double> sum(kD, 0.0);
  std::vector<float> row(kD);
  for (uint64_t index : {5, 17, 5, 150}) {  // 999999 is unknown and ignored
    model->item_in().table.Embed(index, row.data());
    for (uint32_t k = 0; k < kD; ++k) sum[k] += row[k];
  }
  std::vector<float> user(kD);
  for (uint32_t k = 0; k < kD; ++k) user[k] = static_cast<float>(sum[k] / 4);

  RankQuery query;
  query.history = history;
  query.include_seen = true;
  query.k = model->item().table.size();
  RankScratch scratch;
  RankResult result;
  model->Rank(query, &scratch, &result);
  EXPECT_EQ(result.history_used, 4u);
  EXPECT_EQ(result.unknown_history, 1u);
  EXPECT_FALSE(result.popularity);
  ASSERT_EQ(result.items.size(), model->item().table.size());
  std::vector<float> item(kD);
  for (const ScoredId& scored : result.items) {
    model->EmbedItem(scored.id, item.data());
    const float want = model->scorer().ScoreOne(user.data(), item.data());
    EXPECT_NEAR(scored.score, want, 1e-5f * std::max(1.0f, std::abs(want))) << scored.id;
  }
}

INSTANTIATE_TEST_SUITE_P(AllKinds, HistoryKindTest,
                         ::testing::ValuesIn(testing::AllTableKindsInProto()),
                         [](const ::testing::TestParamInfo<TableKind>& param) {
                           return TableKindName(param.param);
                         });

TEST(HistoryModelTest, SeenAndExcludedItemsAreNotReturned) {
  auto model = Build(HistoryOptions(snapshot::MEMCOM));
  const uint64_t n = model->item().table.size();
  const std::vector<uint64_t> history = {WireId(1), WireId(2), WireId(3)};
  const std::vector<uint64_t> exclude = {WireId(4), WireId(3), 123456789};
  RankQuery query;
  query.history = history;
  query.exclude = exclude;
  query.k = n;
  RankScratch scratch;
  RankResult result;
  model->Rank(query, &scratch, &result);
  std::set<uint64_t> returned;
  for (const ScoredId& scored : result.items) returned.insert(scored.id);
  EXPECT_EQ(returned.size(), n - 4);  // items 1, 2, 3 seen; 4 (and 3) excluded
  for (uint64_t id : {WireId(1), WireId(2), WireId(3), WireId(4)})
    EXPECT_EQ(returned.count(id), 0u);

  query.include_seen = true;
  model->Rank(query, &scratch, &result);
  returned.clear();
  for (const ScoredId& scored : result.items) returned.insert(scored.id);
  EXPECT_EQ(returned.size(), n - 2);  // only the excluded 3 and 4 are missing
  EXPECT_EQ(returned.count(WireId(1)), 1u);
  EXPECT_EQ(returned.count(WireId(3)), 0u);

  // Explicit candidates obey the same rules.
  const std::vector<uint64_t> candidates = {WireId(1), WireId(4), WireId(9), WireId(10)};
  query.include_seen = false;
  query.candidates = candidates;
  model->Rank(query, &scratch, &result);
  returned.clear();
  for (const ScoredId& scored : result.items) returned.insert(scored.id);
  EXPECT_EQ(returned, (std::set<uint64_t>{WireId(9), WireId(10)}));
}

TEST(HistoryModelTest, NoUsableHistoryRanksByPopularity) {
  auto model = Build(HistoryOptions(snapshot::HASH));
  const std::vector<uint64_t> unknown_only = {424242, 515151};
  for (absl::Span<const uint64_t> history :
       {absl::Span<const uint64_t>(), absl::Span<const uint64_t>(unknown_only)}) {
    RankQuery query;
    query.history = history;
    query.k = 5;
    const std::vector<uint64_t> exclude = {WireId(1)};
    query.exclude = exclude;
    RankScratch scratch;
    RankResult result;
    model->Rank(query, &scratch, &result);
    EXPECT_TRUE(result.popularity);
    EXPECT_EQ(result.history_used, 0u);
    EXPECT_EQ(result.unknown_history, history.size());
    // The demo's popularity falls with the index: 0, 2, 3, 4, 5 (1 is excluded).
    std::vector<uint64_t> ids;
    for (const ScoredId& scored : result.items) ids.push_back(scored.id);
    EXPECT_EQ(ids, (std::vector<uint64_t>{WireId(0), WireId(2), WireId(3), WireId(4), WireId(5)}));
    EXPECT_FLOAT_EQ(result.items[0].score, model->popularity()[0]);
  }
}

TEST(HistoryModelTest, CreateRefusesIncompleteHistorySnapshots) {
  struct Case {
    std::string name;
    std::function<void(Snapshot*)> damage;
    std::string message;
  };
  const std::vector<Case> cases = {
      {"no popularity", [](Snapshot* s) { s->tensors.erase("popularity"); },
       "tensor 'popularity' is missing"},
      {"misshapen popularity",
       [](Snapshot* s) { s->tensors["popularity"] = *MakeFloatTensor({3}); }, "popularity"},
      {"no output table",
       [](Snapshot* s) {
         s->manifest.mutable_tables()->DeleteSubrange(1, 1);
         for (const char* name : {"item/shared", "item/weight", "item/id_map"}) {
           s->tensors.erase(name);
         }
       },
       "manifest has no 'item' table"},
      {"unknown user mode",
       [](Snapshot* s) { s->manifest.set_user_mode(static_cast<snapshot::UserMode>(7)); },
       "unknown user mode 7"},
  };
  for (const Case& c : cases) {
    Snapshot s = *MakeDemoSnapshot(HistoryOptions(snapshot::MEMCOM));
    c.damage(&s);
    auto model = Model::Create(s.manifest, std::move(s.tensors));
    EXPECT_EQ(model.status().code(), absl::StatusCode::kFailedPrecondition)
        << c.name << ": " << model.status();
    EXPECT_THAT(std::string(model.status().message()), ::testing::HasSubstr(c.message)) << c.name;
  }
}

// Tied tables: a history snapshot with no item_in table pools the item table's rows.
TEST(HistoryModelTest, WithoutAnInputTableTheItemTableIsBoth) {
  Snapshot s = *MakeDemoSnapshot(HistoryOptions(snapshot::MEMCOM));
  ASSERT_EQ(s.manifest.tables(0).feature(), "item_in");
  s.manifest.mutable_tables()->DeleteSubrange(0, 1);
  for (const char* name : {"item_in/shared", "item_in/weight", "item_in/id_map"}) {
    s.tensors.erase(name);
  }
  auto created = Model::Create(s.manifest, std::move(s.tensors));
  ASSERT_TRUE(created.ok()) << created.status();
  const Model& model = **created;
  EXPECT_EQ(model.features().size(), 1u);
  EXPECT_EQ(&model.item_in(), &model.item());
  const std::vector<uint64_t> history = {WireId(3), WireId(8), WireId(1)};
  const uint32_t d = model.item().table.dim();
  std::vector<float> want(d, 0), row(d), got(d);
  for (uint64_t id : history) {
    model.EmbedItem(id, row.data());
    for (uint32_t k = 0; k < d; ++k) want[k] += row[k];
  }
  for (float& v : want) v *= 1.0f / static_cast<float>(history.size());
  uint32_t used = 0, unknown = 0;
  model.EmbedHistory(history, got.data(), &used, &unknown);
  EXPECT_EQ(used, history.size());
  for (uint32_t k = 0; k < d; ++k) EXPECT_FLOAT_EQ(got[k], want[k]) << k;
}

TEST(HistoryModelTest, IdModelsIgnoreHistoryButHonourExclusions) {
  DemoModelOptions options = HistoryOptions(snapshot::MEMCOM);
  options.user_mode = snapshot::USER_MODE_ID;
  auto model = Build(options);
  const std::vector<uint64_t> history = {WireId(0)};
  const std::vector<uint64_t> exclude = {WireId(1)};
  RankQuery query;
  query.user_id = 7;
  query.history = history;
  query.exclude = exclude;
  query.k = model->item().table.size();
  RankScratch scratch;
  RankResult result;
  model->Rank(query, &scratch, &result);
  EXPECT_EQ(result.items.size(), model->item().table.size() - 1);
  EXPECT_EQ(result.history_used, 0u);
  EXPECT_FALSE(result.popularity);
}

}  // namespace
}  // namespace ranker
