// Hand-written gradients of every table kind and of the RankNet scorer against central finite
// differences of the RankNet loss.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <memory>
#include <random>

#include "model/table_sizing.h"
#include "tests/support/table_kinds.h"
#include "trainer/train_step.h"
#include "trainer/trainable_scorer.h"
#include "trainer/trainable_table.h"
#include "trainer/user_encoder.h"

namespace ranker {
namespace {

constexpr uint32_t kD = 4;

struct Pair {
  uint32_t user, positive, negative;
};

// Summed RankNet loss over `pairs` (summed, not averaged, so gradients are large enough
// for float32 finite differences to resolve a wrong factor); with `grads`, also the analytical
// gradients.
double Loss(const TrainableTable& users, const TrainableTable& items, const TrainableScorer& scorer,
            const std::vector<Pair>& pairs, TableGradient* user_grad, TableGradient* item_grad,
            ScorerGradient* scorer_grad) {
  const int rows = static_cast<int>(pairs.size());
  std::vector<float> u(rows * kD), p(rows * kD), n(rows * kD);
  for (int r = 0; r < rows; ++r) {
    users.Embed(pairs[r].user, &u[r * kD]);
    items.Embed(pairs[r].positive, &p[r * kD]);
    items.Embed(pairs[r].negative, &n[r * kD]);
  }
  std::vector<float> sp(rows), sn(rows), dsp(rows), dsn(rows);
  ScorerCache cp, cn;
  scorer.Forward(u.data(), p.data(), rows, sp.data(), &cp);
  scorer.Forward(u.data(), n.data(), rows, sn.data(), &cn);
  double loss = 0;
  for (int r = 0; r < rows; ++r) {
    const double x = double{sp[r]} - sn[r];
    loss += std::log1p(std::exp(-x));
    const double dx = -1.0 / (1.0 + std::exp(x));
    dsp[r] = static_cast<float>(dx);
    dsn[r] = static_cast<float>(-dx);
  }
  if (user_grad == nullptr) return loss;
  std::vector<float> du(rows * kD), du2(rows * kD), dp(rows * kD), dn(rows * kD);
  scorer.Backward(u.data(), p.data(), cp, dsp.data(), du.data(), dp.data(), scorer_grad);
  scorer.Backward(u.data(), n.data(), cn, dsn.data(), du2.data(), dn.data(), scorer_grad);
  for (int r = 0; r < rows; ++r) {
    for (uint32_t k = 0; k < kD; ++k) du[r * kD + k] += du2[r * kD + k];
    users.Backward(pairs[r].user, &du[r * kD], user_grad);
    items.Backward(pairs[r].positive, &dp[r * kD], item_grad);
    items.Backward(pairs[r].negative, &dn[r * kD], item_grad);
  }
  return loss;
}

void ExpectClose(double analytical, double numerical, const std::string& what) {
  EXPECT_NEAR(analytical, numerical, 1e-2 * std::abs(numerical) + 3e-4) << what;
}

class TableGradientTest : public ::testing::TestWithParam<TableKind> {};

TEST_P(TableGradientTest, MatchesFiniteDifferences) {
  const uint32_t n_users = 7, n_items = 11;
  const TableSpec user_spec = *SizeTable("user", GetParam(), n_users, kD, 1.5, /*clamp=*/true);
  const TableSpec item_spec = *SizeTable("item", GetParam(), n_items, kD, 1.5, /*clamp=*/true);
  std::vector<uint32_t> freq(n_items);
  for (uint32_t i = 0; i < n_items; ++i) freq[i] = (i * 7) % 5;
  TrainableTable users =
      *TrainableTable::Create(user_spec, std::vector<uint32_t>(n_users, 1), 11, 0.5f);
  TrainableTable items = *TrainableTable::Create(item_spec, freq, 12, 0.5f);
  // Spread MEmCom weights away from 1 so their gradient is not a special case.
  for (TrainableTable* t : {&users, &items}) {
    std::mt19937 rng(3);
    for (ParamTensor& p : t->params()) {
      if (p.anchor != 0) {
        for (float& v : p.values) v += std::uniform_real_distribution<float>(-0.5, 0.5)(rng);
      }
    }
  }
  TrainableScorer scorer(kD, {5, 3}, ScorerMode::kMlpDot, 13);
  for (size_t i = 0; i < scorer.weights().back().size(); ++i) {
    scorer.weights().back()[i] = 0.8f * std::sin(2.0f + static_cast<float>(i));  // MLP path live
  }
  std::vector<Pair> pairs;
  std::mt19937 rng(5);
  for (int i = 0; i < 9; ++i) {
    pairs.push_back({static_cast<uint32_t>(rng() % n_users), static_cast<uint32_t>(rng() % n_items),
                     static_cast<uint32_t>(rng() % n_items)});
  }

  TableGradient user_grad, item_grad;
  user_grad.Resize(users.params());
  item_grad.Resize(items.params());
  ScorerGradient scorer_grad = scorer.MakeGradient();
  Loss(users, items, scorer, pairs, &user_grad, &item_grad, &scorer_grad);

  const double eps = 2e-3;
  for (auto [table, grad, label] :
       {std::tuple{&users, &user_grad, "user"}, std::tuple{&items, &item_grad, "item"}}) {
    for (size_t t = 0; t < table->params().size(); ++t) {
      std::vector<float>& values = table->params()[t].values;
      for (size_t i = 0; i < values.size(); ++i) {
        const float saved = values[i];
        values[i] = saved + eps;
        const double up = Loss(users, items, scorer, pairs, nullptr, nullptr, nullptr);
        values[i] = saved - eps;
        const double down = Loss(users, items, scorer, pairs, nullptr, nullptr, nullptr);
        values[i] = saved;
        ExpectClose(
            grad->Get(t, i), (up - down) / (2 * eps),
            std::string(label) + "/" + table->params()[t].name + "[" + std::to_string(i) + "]");
      }
    }
  }
}

INSTANTIATE_TEST_SUITE_P(AllKinds, TableGradientTest,
                         ::testing::ValuesIn(testing::AllTableKindsInProto()),
                         [](const ::testing::TestParamInfo<TableKind>& param) {
                           return TableKindName(param.param);
                         });

class ScorerGradientTest : public ::testing::TestWithParam<ScorerMode> {};

TEST_P(ScorerGradientTest, MatchesFiniteDifferences) {
  const TableSpec spec = *SizeTable("x", snapshot::FULL, 6, kD, 1);
  TrainableTable users = *TrainableTable::Create(spec, {}, 1, 0.5f);
  TrainableTable items = *TrainableTable::Create(spec, {}, 2, 0.5f);
  TrainableScorer scorer(kD, {5, 3}, GetParam(), 3);
  // The output layer starts at zero (the MLP is a residual on the dot product); give it values
  // so that every path carries gradient.
  for (size_t i = 0; i < scorer.weights().back().size(); ++i) {
    scorer.weights().back()[i] = 0.8f * std::sin(1.0f + static_cast<float>(i));
  }
  std::vector<Pair> pairs = {{0, 1, 2}, {3, 4, 5}, {5, 0, 3}, {2, 2, 1}};
  TableGradient ug, ig;
  ug.Resize(users.params());
  ig.Resize(items.params());
  ScorerGradient grad = scorer.MakeGradient();
  Loss(users, items, scorer, pairs, &ug, &ig, &grad);
  const double eps = 2e-3;
  const auto numeric = [&](float* value) {
    const float saved = *value;
    *value = saved + eps;
    const double up = Loss(users, items, scorer, pairs, nullptr, nullptr, nullptr);
    *value = saved - eps;
    const double down = Loss(users, items, scorer, pairs, nullptr, nullptr, nullptr);
    *value = saved;
    return (up - down) / (2 * eps);
  };
  if (GetParam() != ScorerMode::kDot) {
    for (size_t l = 0; l < scorer.weights().size(); ++l) {
      for (size_t i = 0; i < scorer.weights()[l].size(); ++i) {
        ExpectClose(grad.weights[l][i], numeric(&scorer.weights()[l][i]),
                    "w" + std::to_string(l) + "[" + std::to_string(i) + "]");
      }
      for (size_t i = 0; i < scorer.biases()[l].size(); ++i) {
        ExpectClose(grad.biases[l][i], numeric(&scorer.biases()[l][i]),
                    "b" + std::to_string(l) + "[" + std::to_string(i) + "]");
      }
    }
  }
  if (GetParam() != ScorerMode::kMlp) ExpectClose(grad.alpha, numeric(&scorer.alpha()), "alpha");
  // And the embeddings' gradients through the scorer (full tables: dL/de directly).
  for (size_t i = 0; i < users.params()[0].values.size(); ++i) {
    ExpectClose(ug.Get(0, i), numeric(&users.params()[0].values[i]), "u" + std::to_string(i));
  }
}

INSTANTIATE_TEST_SUITE_P(AllModes, ScorerGradientTest,
                         ::testing::Values(ScorerMode::kMlpDot, ScorerMode::kMlp, ScorerMode::kDot),
                         [](const ::testing::TestParamInfo<ScorerMode>& param) {
                           return param.param == ScorerMode::kMlpDot ? std::string("MlpDot")
                                  : param.param == ScorerMode::kMlp  ? std::string("Mlp")
                                                                     : std::string("Dot");
                         });

// The history path, through the trainer's own step (RunTrainShare): dL/d(item_in parameters)
// for a user vector pooled from the user's training items minus the positive, including pairs
// that share one pooled vector (the negatives of one positive).
class HistoryGradientTest : public ::testing::TestWithParam<TableKind> {};

TEST_P(HistoryGradientTest, MatchesFiniteDifferences) {
  const uint32_t n_items = 9;
  Split split;
  split.users.resize(3);
  split.users[0].train = {0, 2, 5, 7};
  split.users[1].train = {1, 3};
  split.users[2].train = {2, 4, 6, 8};
  for (UserSplit& user : split.users) user.train_in_time = user.train;
  split.train_item_counts.assign(n_items, 1);
  const TableSpec in_spec = *SizeTable("item_in", GetParam(), n_items, kD, 1.5, /*clamp=*/true);
  const TableSpec out_spec = *SizeTable("item", snapshot::FULL, n_items, kD, 1);
  TrainableTable items_in = *TrainableTable::Create(in_spec, split.train_item_counts, 21, 0.5f);
  std::mt19937 rng(4);
  for (ParamTensor& p : items_in.params()) {
    if (p.anchor != 0) {
      for (float& v : p.values) v += std::uniform_real_distribution<float>(-0.5, 0.5)(rng);
    }
  }
  std::unique_ptr<UserEncoder> users = MakeHistoryUserEncoder(std::move(items_in), split);
  TrainableTable items = *TrainableTable::Create(out_spec, {}, 22, 0.5f);
  TrainableScorer scorer(kD, {5, 3}, ScorerMode::kMlpDot, 23);
  for (size_t i = 0; i < scorer.weights().back().size(); ++i) {
    scorer.weights().back()[i] = 0.8f * std::sin(2.0f + static_cast<float>(i));
  }
  const std::vector<TrainingPair> pairs = {{0, 2, 1}, {0, 2, 3}, {0, 7, 4}, {1, 3, 0},
                                           {2, 6, 1}, {2, 6, 5}, {2, 4, 0}};
  const auto loss = [&](TableGradient* grad) {
    TrainWorker worker;
    worker.user_grad.Resize(users->table().params());
    worker.item_grad.Resize(items.params());
    worker.scorer_grad = scorer.MakeGradient();
    RunTrainShare(pairs, 0, pairs.size(), 1.0, *users, items, scorer, &worker);
    if (grad != nullptr) grad->Merge(worker.user_grad);
    return worker.loss;
  };
  TableGradient grad;
  grad.Resize(users->table().params());
  loss(&grad);
  const double eps = 2e-3;
  for (size_t t = 0; t < users->table().params().size(); ++t) {
    std::vector<float>& values = users->table().params()[t].values;
    for (size_t i = 0; i < values.size(); ++i) {
      const float saved = values[i];
      values[i] = saved + eps;
      const double up = loss(nullptr);
      values[i] = saved - eps;
      const double down = loss(nullptr);
      values[i] = saved;
      ExpectClose(grad.Get(t, i), (up - down) / (2 * eps),
                  users->table().params()[t].name + "[" + std::to_string(i) + "]");
    }
  }
}

INSTANTIATE_TEST_SUITE_P(AllKinds, HistoryGradientTest,
                         ::testing::ValuesIn(testing::AllTableKindsInProto()),
                         [](const ::testing::TestParamInfo<TableKind>& param) {
                           return TableKindName(param.param);
                         });

// Tied tables: one item table is pooled for the user and scores the items, so its gradient is
// the sum of both sides'. Histories are capped at the 3 most recent training items (user 2's
// oldest, 2, is left out of the pooled rows).
class TiedHistoryGradientTest : public ::testing::TestWithParam<TableKind> {};

TEST_P(TiedHistoryGradientTest, MatchesFiniteDifferences) {
  const uint32_t n_items = 9;
  Split split;
  split.users.resize(3);
  split.users[0].train_in_time = {7, 0, 5, 2};
  split.users[1].train_in_time = {3, 1};
  split.users[2].train_in_time = {2, 8, 6, 4};
  for (UserSplit& user : split.users) {
    user.train = user.train_in_time;
    std::sort(user.train.begin(), user.train.end());
  }
  split.train_item_counts.assign(n_items, 1);
  const TableSpec spec = *SizeTable("item", GetParam(), n_items, kD, 1.5, /*clamp=*/true);
  TrainableTable items = *TrainableTable::Create(spec, split.train_item_counts, 31, 0.5f);
  std::mt19937 rng(5);
  for (ParamTensor& p : items.params()) {
    if (p.anchor != 0) {
      for (float& v : p.values) v += std::uniform_real_distribution<float>(-0.5, 0.5)(rng);
    }
  }
  std::unique_ptr<UserEncoder> users = MakeTiedHistoryUserEncoder(&items, split, 3);
  ASSERT_TRUE(users->tied());
  ASSERT_EQ(&users->table(), &items);
  TrainableScorer scorer(kD, {5, 3}, ScorerMode::kMlpDot, 33);
  for (size_t i = 0; i < scorer.weights().back().size(); ++i) {
    scorer.weights().back()[i] = 0.8f * std::sin(1.0f + static_cast<float>(i));
  }
  // (2, 2, ...): 2 is outside user 2's window, so all three window rows are pooled.
  const std::vector<TrainingPair> pairs = {{0, 2, 1}, {0, 2, 3}, {0, 7, 4}, {1, 3, 0},
                                           {2, 6, 1}, {2, 6, 5}, {2, 2, 0}};
  const auto loss = [&](TableGradient* grad) {
    TrainWorker worker;
    worker.user_grad.Resize(items.params());
    worker.item_grad.Resize(items.params());
    worker.scorer_grad = scorer.MakeGradient();
    RunTrainShare(pairs, 0, pairs.size(), 1.0, *users, items, scorer, &worker);
    if (grad != nullptr) {
      grad->Merge(worker.user_grad);
      grad->Merge(worker.item_grad);
    }
    return worker.loss;
  };
  TableGradient grad;
  grad.Resize(items.params());
  loss(&grad);
  const double eps = 2e-3;
  for (size_t t = 0; t < items.params().size(); ++t) {
    std::vector<float>& values = items.params()[t].values;
    for (size_t i = 0; i < values.size(); ++i) {
      const float saved = values[i];
      values[i] = saved + eps;
      const double up = loss(nullptr);
      values[i] = saved - eps;
      const double down = loss(nullptr);
      values[i] = saved;
      ExpectClose(grad.Get(t, i), (up - down) / (2 * eps),
                  items.params()[t].name + "[" + std::to_string(i) + "]");
    }
  }
}

INSTANTIATE_TEST_SUITE_P(AllKinds, TiedHistoryGradientTest,
                         ::testing::ValuesIn(testing::AllTableKindsInProto()),
                         [](const ::testing::TestParamInfo<TableKind>& param) {
                           return TableKindName(param.param);
                         });

}  // namespace
}  // namespace ranker
