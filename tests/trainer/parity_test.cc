// Trainer = server: the same ids through the trainer's forward pass (TrainableTable::Embed,
// TrainableScorer::Forward) and through the Model the server builds from the trainer's export
// must give the same embeddings and scores, for every table kind x scorer mode.
#include <gtest/gtest.h>

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
#include "trainer/trainable_table.h"

namespace ranker {
namespace {

constexpr uint32_t kD = 8;
constexpr uint32_t kUsers = 23, kItems = 41;

using Param = std::tuple<TableKind, ScorerMode>;

// Moves every parameter off its initial value so no kind's term is a special case (weights
// of exactly 1, a zero MLP output layer).
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
    ASSERT_EQ(result.items.size(), kItems);
    for (const ScoredId& got : result.items) {
      const uint32_t i = static_cast<uint32_t>((got.id - 2) / 5);
      const double want = scores[i];
      // Relative to |score|, and absolute below 1 (float sums differ in their last bits).
      const double error = std::abs(got.score - want) / std::max(1.0, std::abs(want));
      worst = std::max(worst, error);
      ASSERT_LE(error, 1e-6) << "user " << u << " item " << i << ": served " << got.score
                             << ", trained " << want;
    }
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

}  // namespace
}  // namespace ranker
