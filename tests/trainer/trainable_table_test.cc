// Trainer = server: the same ids through the trainer's forward pass (TrainableTable::Embed,
// TrainableScorer::Forward) and through the Model the server builds from the trainer's export
// must give the same embeddings and scores, for every table kind x scorer mode.
#include "trainer/trainable_table.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <random>
#include <tuple>

#include "absl/strings/str_format.h"
#include "model/model.h"
#include "model/table_layout.h"
#include "model/table_sizing.h"
#include "tests/support/table_kinds.h"
#include "trainer/table_gradients.h"
#include "trainer/trainable_scorer.h"
#include "trainer/user_encoder.h"

namespace ranker {
namespace {

constexpr uint32_t kD = 8;
constexpr uint32_t kUsers = 23, kItems = 41;

using Param = std::tuple<TableKind, ScorerMode>;

// Moves every parameter off its initial value so no kind's term is a special case (weights
// of exactly 1, a zero MLP output layer).
// Compares served scores with the trainer's: relative to |score|, absolute below 1 (float sums
// differ in their last bits). `index_of` maps a wire id to its item index. Returns the worst
// relative error.
template <typename IndexOf>
double ExpectServedScoresAsTrained(const RankResult& result, const std::vector<float>& trained,
                                   IndexOf index_of, uint32_t user) {
  EXPECT_EQ(result.items.size(), trained.size());
  double worst = 0;
  for (const ScoredId& got : result.items) {
    const auto i = static_cast<uint32_t>(index_of(got.id));
    const double want = trained[i];
    const double error = std::abs(got.score - want) / std::max(1.0, std::abs(want));
    worst = std::max(worst, error);
    EXPECT_LE(error, 1e-6) << "user " << user << " item " << i << ": served " << got.score
                           << ", trained " << want;
  }
  return worst;
}

void Perturb(std::vector<ParamTensor>& params, std::mt19937& rng) {
  std::uniform_real_distribution<float> noise(-0.4f, 0.4f);
  for (ParamTensor& p : params) {
    for (float& v : p.values) v += noise(rng);
  }
}

class ParityTest : public ::testing::TestWithParam<Param> {};

TEST_P(ParityTest, ServedModelScoresExactlyAsTrained) {
  const auto [kind, mode] = GetParam();
  ASSERT_NE(FindTableGradient(kind), nullptr) << "add its gradient to trainer/table_gradients.cc";
  const TableSpec user_spec = *SizeTable("user", kind, kUsers, kD, 2, /*clamp=*/true);
  // Items use the seeded hash, users the identity: both shared-row functions are covered.
  TableSpec item_spec = *SizeTable("item", kind, kItems, kD, 2, /*clamp=*/true);
  item_spec.set_hash(snapshot::MIX);
  item_spec.set_hash_seed(12345);
  std::vector<uint32_t> frequencies(kItems);
  for (uint32_t i = 0; i < kItems; ++i) frequencies[i] = (i * 13) % 7;
  auto users = TrainableTable::Create(user_spec, std::vector<uint32_t>(kUsers, 1), 1, 0.3f);
  auto items = TrainableTable::Create(item_spec, frequencies, 2, 0.3f);
  ASSERT_TRUE(users.ok() && items.ok()) << users.status() << items.status();
  std::mt19937 rng(7);
  Perturb(users->params(), rng);
  Perturb(items->params(), rng);
  TrainableScorer scorer(kD, {12, 6}, mode, 3);
  // In dot mode the MLP is not trained: it stays the zero layer it is exported as.
  std::normal_distribution<float> normal(0.0f, 0.3f);
  for (size_t l = 0; mode != ScorerMode::kDot && l < scorer.weights().size(); ++l) {
    for (float& w : scorer.weights()[l]) w += normal(rng);
    for (float& b : scorer.biases()[l]) b += normal(rng);
  }
  if (mode != ScorerMode::kMlp) scorer.alpha() = 0.7f;

  // Export as the trainer does: user ids dense, item ids sparse (through an id map).
  std::vector<uint64_t> user_ids(kUsers), item_ids(kItems);
  for (uint32_t u = 0; u < kUsers; ++u) user_ids[u] = u;
  for (uint32_t i = 0; i < kItems; ++i) item_ids[i] = 5 * i + 2;
  Snapshot snapshot;
  TableSpec exported_user, exported_item;
  ASSERT_TRUE(users->Export(user_ids, &snapshot.tensors, &exported_user).ok());
  ASSERT_TRUE(items->Export(item_ids, &snapshot.tensors, &exported_item).ok());
  *snapshot.manifest.add_tables() = exported_user;
  *snapshot.manifest.add_tables() = exported_item;
  ASSERT_TRUE(scorer.Export(&snapshot.tensors, snapshot.manifest.mutable_scorer()).ok());
  auto model = Model::Create(snapshot.manifest, std::move(snapshot.tensors));
  ASSERT_TRUE(model.ok()) << model.status();

  // Embeddings: bit-identical (the same products of the same floats).
  std::vector<float> trained(kD), served(kD);
  for (uint32_t u = 0; u < kUsers; ++u) {
    users->Embed(u, trained.data());
    (*model)->EmbedUser(user_ids[u], served.data());
    ASSERT_EQ(trained, served) << "user " << u;
  }
  for (uint32_t i = 0; i < kItems; ++i) {
    items->Embed(i, trained.data());
    (*model)->EmbedItem(item_ids[i], served.data());
    ASSERT_EQ(trained, served) << "item " << i;
  }

  // Scores: every user against every item, as Rank serves them (whole catalogue, k = n).
  std::vector<float> user_rows(kItems * kD), item_rows(kItems * kD), scores(kItems);
  for (uint32_t i = 0; i < kItems; ++i) items->Embed(i, &item_rows[i * kD]);
  RankScratch scratch;
  RankResult result;
  ScorerCache cache;
  double worst = 0;
  for (uint32_t u = 0; u < kUsers; ++u) {
    for (uint32_t i = 0; i < kItems; ++i) users->Embed(u, &user_rows[i * kD]);
    scorer.Forward(user_rows.data(), item_rows.data(), kItems, scores.data(), &cache);
    (*model)->Rank(user_ids[u], {}, kItems, &scratch, &result);
    worst = std::max(worst, ExpectServedScoresAsTrained(
                                result, scores, [](uint64_t id) { return (id - 2) / 5; }, u));
  }
  RecordProperty("worst_relative_error", absl::StrFormat("%.3g", worst));
}

INSTANTIATE_TEST_SUITE_P(AllKindsAndModes, ParityTest,
                         ::testing::Combine(::testing::ValuesIn(testing::AllTableKindsInProto()),
                                            ::testing::Values(ScorerMode::kMlpDot, ScorerMode::kMlp,
                                                              ScorerMode::kDot)),
                         [](const ::testing::TestParamInfo<Param>& param) {
                           std::string mode = ScorerModeName(std::get<1>(param.param));
                           if (mode == "mlp+dot") mode = "mlp_dot";
                           return TableKindName(std::get<0>(param.param)) + "_" + mode;
                         });

// History models: the trainer's pooled user vector (UserEncoder) and scores against the served
// Model given the same history, for every input kind (output table memcom, items MIX-hashed).
class HistoryParityTest : public ::testing::TestWithParam<TableKind> {};

TEST_P(HistoryParityTest, ServedHistoryModelScoresExactlyAsTrained) {
  Split split;
  split.users.resize(3);
  split.users[0].train = {0, 3, 4, 9, 20, 40};
  split.users[1].train = {7};
  split.users[2].train = {1, 2, 5, 6, 8, 10, 11, 12, 30, 39};
  split.train_item_counts.assign(kItems, 0);
  for (UserSplit& user : split.users) {
    user.train_in_time = user.train;
    for (uint32_t item : user.train) ++split.train_item_counts[item];
  }
  const TableSpec in_spec = *SizeTable("item_in", GetParam(), kItems, kD, 2, /*clamp=*/true);
  TableSpec out_spec = *SizeTable("item", snapshot::MEMCOM, kItems, kD, 2, /*clamp=*/true);
  out_spec.set_hash(snapshot::MIX);
  out_spec.set_hash_seed(99);
  auto items_in = TrainableTable::Create(in_spec, split.train_item_counts, 1, 0.3f);
  auto items = TrainableTable::Create(out_spec, split.train_item_counts, 2, 0.3f);
  ASSERT_TRUE(items_in.ok() && items.ok()) << items_in.status() << items.status();
  std::mt19937 rng(9);
  Perturb(items_in->params(), rng);
  Perturb(items->params(), rng);
  std::unique_ptr<UserEncoder> users = MakeHistoryUserEncoder(*std::move(items_in), split);
  TrainableScorer scorer(kD, {12, 6}, ScorerMode::kMlpDot, 3);
  std::normal_distribution<float> normal(0.0f, 0.3f);
  for (size_t l = 0; l < scorer.weights().size(); ++l) {
    for (float& w : scorer.weights()[l]) w += normal(rng);
  }
  scorer.alpha() = 0.7f;

  std::vector<uint64_t> item_ids(kItems);
  for (uint32_t i = 0; i < kItems; ++i) item_ids[i] = 5 * i + 2;
  Snapshot snapshot;
  TableSpec exported_in, exported_out;
  ASSERT_TRUE(users->table().Export(item_ids, &snapshot.tensors, &exported_in).ok());
  ASSERT_TRUE(items->Export(item_ids, &snapshot.tensors, &exported_out).ok());
  *snapshot.manifest.add_tables() = exported_in;
  *snapshot.manifest.add_tables() = exported_out;
  snapshot.manifest.set_user_mode(snapshot::USER_MODE_HISTORY);
  ASSERT_TRUE(scorer.Export(&snapshot.tensors, snapshot.manifest.mutable_scorer()).ok());
  snapshot.tensors["popularity"] = *MakeFloatTensor({kItems});
  auto model = Model::Create(snapshot.manifest, std::move(snapshot.tensors));
  ASSERT_TRUE(model.ok()) << model.status();

  std::vector<float> user_rows(kItems * kD), item_rows(kItems * kD), scores(kItems);
  for (uint32_t i = 0; i < kItems; ++i) items->Embed(i, &item_rows[i * kD]);
  RankScratch scratch;
  RankResult result;
  ScorerCache cache;
  for (uint32_t u = 0; u < split.users.size(); ++u) {
    // The positive is an item outside the history, so the trainer pools all of it, as the
    // server does.
    const TrainingPair pair{u, 35, 0};  // item 35 is in no history
    for (uint32_t i = 0; i < kItems; ++i) users->Encode(pair, &user_rows[i * kD]);
    scorer.Forward(user_rows.data(), item_rows.data(), kItems, scores.data(), &cache);
    std::vector<uint64_t> history;
    for (uint32_t item : split.users[u].train) history.push_back(item_ids[item]);
    RankQuery query;
    query.history = history;
    query.include_seen = true;
    query.k = kItems;
    std::vector<float> served_user(kD);
    uint32_t used = 0, unknown = 0;
    (*model)->EmbedHistory(history, served_user.data(), &used, &unknown);
    ASSERT_EQ(std::vector<float>(user_rows.begin(), user_rows.begin() + kD), served_user)
        << "user " << u;
    std::vector<float> served_item(kD);
    for (uint32_t i = 0; i < kItems; ++i) {
      (*model)->EmbedItem(item_ids[i], served_item.data());
      ASSERT_EQ(std::vector<float>(item_rows.begin() + i * kD, item_rows.begin() + (i + 1) * kD),
                served_item)
          << "item " << i;
    }
    (*model)->Rank(query, &scratch, &result);
    ASSERT_EQ(result.history_used, history.size());
    ExpectServedScoresAsTrained(
        result, scores, [](uint64_t id) { return (id - 2) / 5; }, u);
  }
}

INSTANTIATE_TEST_SUITE_P(AllKinds, HistoryParityTest,
                         ::testing::ValuesIn(testing::AllTableKindsInProto()),
                         [](const ::testing::TestParamInfo<TableKind>& param) {
                           return TableKindName(param.param);
                         });

// Tied tables: the trainer pools and scores one item table; the exported snapshot has no
// item_in table and the served Model pools the item rows. Histories in time order (not index
// order), as the trainer keeps them.
class TiedParityTest : public ::testing::TestWithParam<TableKind> {};

TEST_P(TiedParityTest, ServedTiedModelScoresExactlyAsTrained) {
  Split split;
  split.users.resize(2);
  split.users[0].train_in_time = {40, 3, 9, 0, 20, 4};
  split.users[1].train_in_time = {12, 30, 1, 2, 39, 5, 8, 11, 10, 6};
  split.train_item_counts.assign(kItems, 0);
  for (UserSplit& user : split.users) {
    user.train = user.train_in_time;
    std::sort(user.train.begin(), user.train.end());
    for (uint32_t item : user.train) ++split.train_item_counts[item];
  }
  TableSpec spec = *SizeTable("item", GetParam(), kItems, kD, 2, /*clamp=*/true);
  spec.set_hash(snapshot::MIX);
  spec.set_hash_seed(7);
  auto items = TrainableTable::Create(spec, split.train_item_counts, 4, 0.3f);
  ASSERT_TRUE(items.ok()) << items.status();
  std::mt19937 rng(11);
  Perturb(items->params(), rng);
  std::unique_ptr<UserEncoder> users = MakeTiedHistoryUserEncoder(&*items, split);
  TrainableScorer scorer(kD, {12, 6}, ScorerMode::kMlpDot, 5);
  std::normal_distribution<float> normal(0.0f, 0.3f);
  for (size_t l = 0; l < scorer.weights().size(); ++l) {
    for (float& w : scorer.weights()[l]) w += normal(rng);
  }
  scorer.alpha() = 0.6f;

  std::vector<uint64_t> item_ids(kItems);
  for (uint32_t i = 0; i < kItems; ++i) item_ids[i] = 3 * i + 1;
  Snapshot snapshot;
  TableSpec exported;
  ASSERT_TRUE(items->Export(item_ids, &snapshot.tensors, &exported).ok());
  *snapshot.manifest.add_tables() = exported;
  snapshot.manifest.set_user_mode(snapshot::USER_MODE_HISTORY);
  ASSERT_TRUE(scorer.Export(&snapshot.tensors, snapshot.manifest.mutable_scorer()).ok());
  snapshot.tensors["popularity"] = *MakeFloatTensor({kItems});
  auto model = Model::Create(snapshot.manifest, std::move(snapshot.tensors));
  ASSERT_TRUE(model.ok()) << model.status();
  ASSERT_EQ(&(*model)->item_in(), &(*model)->item());

  std::vector<float> user_rows(kItems * kD), item_rows(kItems * kD), scores(kItems);
  for (uint32_t i = 0; i < kItems; ++i) items->Embed(i, &item_rows[i * kD]);
  RankScratch scratch;
  RankResult result;
  ScorerCache cache;
  for (uint32_t u = 0; u < split.users.size(); ++u) {
    const TrainingPair pair{u, 35, 0};  // item 35 is in no history: the whole history pooled
    for (uint32_t i = 0; i < kItems; ++i) users->Encode(pair, &user_rows[i * kD]);
    scorer.Forward(user_rows.data(), item_rows.data(), kItems, scores.data(), &cache);
    std::vector<uint64_t> history;
    for (uint32_t item : split.users[u].train_in_time) history.push_back(item_ids[item]);
    std::vector<float> served_user(kD);
    uint32_t used = 0, unknown = 0;
    (*model)->EmbedHistory(history, served_user.data(), &used, &unknown);
    ASSERT_EQ(std::vector<float>(user_rows.begin(), user_rows.begin() + kD), served_user)
        << "user " << u;
    RankQuery query;
    query.history = history;
    query.include_seen = true;
    query.k = kItems;
    (*model)->Rank(query, &scratch, &result);
    ASSERT_EQ(result.history_used, history.size());
    ExpectServedScoresAsTrained(
        result, scores, [](uint64_t id) { return (id - 1) / 3; }, u);
  }
}

INSTANTIATE_TEST_SUITE_P(AllKinds, TiedParityTest,
                         ::testing::ValuesIn(testing::AllTableKindsInProto()),
                         [](const ::testing::TestParamInfo<TableKind>& param) {
                           return TableKindName(param.param);
                         });

// Sparse Adam: the first step moves each touched element by the learning rate against its
// gradient's sign (bias correction makes m / sqrt(v) = g / |g|); untouched rows do not move;
// a later step with the same gradient keeps the same direction; the gradient is cleared.
TEST(TableOptimizerTest, SparseAdamMovesOnlyTouchedRowsByTheLearningRate) {
  const TableSpec spec = *SizeTable("item", snapshot::FULL, 3, 2, 1, /*clamp=*/true);
  TrainableTable table = *TrainableTable::Create(spec, {}, 5, 0.3f);
  const std::vector<float> before = table.params()[0].values;
  TableGradient grad;
  grad.Resize(table.params());
  float* row = grad.Row(0, 1);
  row[0] = 1.0f;
  row[1] = -2.0f;
  table.ApplyAdam(&grad, 0.1f, 0.0f, 1);
  const std::vector<float>& after = table.params()[0].values;
  EXPECT_EQ(after[0], before[0]);
  EXPECT_EQ(after[1], before[1]);
  EXPECT_NEAR(after[2], before[2] - 0.1f, 1e-5);
  EXPECT_NEAR(after[3], before[3] + 0.1f, 1e-5);
  EXPECT_EQ(after[4], before[4]);
  EXPECT_EQ(after[5], before[5]);
  EXPECT_EQ(grad.Get(0, 2), 0.0f) << "applied gradients are cleared";
  grad.Row(0, 1)[0] = 1.0f;
  const float second_before = after[2];
  table.ApplyAdam(&grad, 0.1f, 0.0f, 2);
  EXPECT_LT(table.params()[0].values[2], second_before);
  EXPECT_EQ(ParseTableOptimizer("adam").value(), TableOptimizer::kAdam);
  EXPECT_EQ(ParseTableOptimizer("adagrad").value(), TableOptimizer::kAdagrad);
  EXPECT_EQ(ParseTableOptimizer("sgd").status().code(), absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace ranker
