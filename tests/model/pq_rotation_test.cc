// The OPQ rotation (model/pq_rotation.h): it is orthogonal, a dot-product history model ranks
// the same after its tables are rotated (scores equal to float rounding), product quantisation
// loses less after it on rows whose variance sits in a few coordinates, and models whose scores
// a rotation would change are refused, unchanged.
#include "model/pq_rotation.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <random>
#include <string>
#include <vector>

#include "model/demo_model.h"
#include "model/model.h"
#include "model/pq_rows.h"
#include "model/table_layout.h"

namespace ranker {
namespace {

constexpr uint32_t kD = 16;

// A full history model with a dot-product scorer (the MLP's only layer all zeros).
Snapshot DotHistorySnapshot() {
  DemoModelOptions options;
  options.user_mode = snapshot::USER_MODE_HISTORY;
  options.kind = snapshot::FULL;
  options.items = 300;
  options.d = kD;
  options.hidden = {};
  absl::StatusOr<Snapshot> snapshot = MakeDemoSnapshot(options);
  EXPECT_TRUE(snapshot.ok()) << snapshot.status();
  Tensor& weights = snapshot->tensors.at(MlpTensorName(0, "weight"));
  for (float& w : weights.bytes.as<float>()) w = 0.0f;
  return *std::move(snapshot);
}

std::unique_ptr<const Model> Build(const Snapshot& snapshot) {
  absl::StatusOr<TensorMap> copy = CopyTensors(snapshot.tensors);
  EXPECT_TRUE(copy.ok());
  absl::StatusOr<std::unique_ptr<const Model>> model =
      Model::Create(snapshot.manifest, *std::move(copy));
  EXPECT_TRUE(model.ok()) << model.status();
  return *std::move(model);
}

RankResult RankAll(const Model& model, const std::vector<uint64_t>& history) {
  RankQuery query;
  query.history = history;
  query.k = model.item().table.size();
  RankScratch scratch;
  RankResult result;
  model.Rank(query, &scratch, &result);
  return result;
}

std::vector<float> RowsOf(const Snapshot& snapshot, const std::string& name) {
  const auto values = snapshot.tensors.at(name).bytes.as<float>();
  return {values.begin(), values.end()};
}

TEST(PqRotationTest, IsOrthogonal) {
  const Snapshot snapshot = DotHistorySnapshot();
  absl::StatusOr<std::vector<float>> r = BalancedPqRotation(snapshot, 4);
  ASSERT_TRUE(r.ok()) << r.status();
  ASSERT_EQ(r->size(), kD * kD);
  for (uint32_t i = 0; i < kD; ++i) {
    for (uint32_t j = 0; j < kD; ++j) {
      double dot = 0;
      for (uint32_t k = 0; k < kD; ++k) dot += (*r)[i * kD + k] * (*r)[j * kD + k];
      EXPECT_NEAR(dot, i == j ? 1.0 : 0.0, 1e-5) << i << "," << j;
    }
  }
}

TEST(PqRotationTest, ADotProductHistoryModelRanksTheSameAfterRotation) {
  Snapshot snapshot = DotHistorySnapshot();
  const std::unique_ptr<const Model> before = Build(snapshot);
  absl::StatusOr<std::vector<float>> r = BalancedPqRotation(snapshot, 4);
  ASSERT_TRUE(r.ok()) << r.status();
  const std::vector<float> rows_before = RowsOf(snapshot, "item/embeddings");
  ASSERT_TRUE(RotateItemTables(*r, &snapshot).ok());
  EXPECT_NE(RowsOf(snapshot, "item/embeddings"), rows_before);  // the tables did change
  const std::unique_ptr<const Model> after = Build(snapshot);
  for (const std::vector<uint64_t>& history :
       {std::vector<uint64_t>{1, 2, 3}, std::vector<uint64_t>{7, 7, 250, 42, 11}}) {
    const RankResult want = RankAll(*before, history);
    const RankResult got = RankAll(*after, history);
    ASSERT_EQ(got.items.size(), want.items.size());
    for (size_t i = 0; i < want.items.size(); ++i) {
      // The same scores to float rounding; ids may swap only between near-ties.
      EXPECT_NEAR(got.items[i].score, want.items[i].score,
                  1e-5f * std::max(1.0f, std::abs(want.items[i].score)));
    }
  }
}

TEST(PqRotationTest, QuantisesAnisotropicRowsWithLessError) {
  // Rows whose variance sits in the first 4 of 16 coordinates, all in the first sub-vector:
  // plain pq spends three of its four codes on near-constant coordinates; the rotation spreads
  // the variance over all four.
  Snapshot snapshot = DotHistorySnapshot();
  std::mt19937_64 random(7);
  std::normal_distribution<float> normal;
  for (const char* name : {"item/embeddings", "item_in/embeddings"}) {
    auto rows = snapshot.tensors.at(name).bytes.as<float>();
    for (size_t i = 0; i < rows.size(); ++i) {
      rows[i] = normal(random) * (i % kD < 4 ? 3.0f : 0.05f);
    }
  }
  PqOptions pq;
  pq.subvectors = 4;
  pq.bits = 4;
  const auto error = [&](const Snapshot& s) {
    const std::vector<float> rows = RowsOf(s, "item/embeddings");
    const uint64_t count = rows.size() / kD;
    const PqEncoding e = EncodePq(rows.data(), count, kD, pq);
    double total = 0;
    const uint32_t sub = kD / pq.subvectors;
    for (uint64_t r = 0; r < count; ++r) {
      for (uint32_t j = 0; j < pq.subvectors; ++j) {
        const uint8_t byte = e.codes[r * 2 + j / 2];
        const uint32_t code = j % 2 == 0 ? byte & 0xF : byte >> 4;
        for (uint32_t k = 0; k < sub; ++k) {
          total +=
              std::pow(rows[r * kD + j * sub + k] - e.codebook[((j << 4) + code) * sub + k], 2);
        }
      }
    }
    return total;
  };
  const double plain = error(snapshot);
  absl::StatusOr<std::vector<float>> r = BalancedPqRotation(snapshot, pq.subvectors);
  ASSERT_TRUE(r.ok()) << r.status();
  ASSERT_TRUE(RotateItemTables(*r, &snapshot).ok());
  const double rotated = error(snapshot);
  EXPECT_LT(rotated, 0.7 * plain) << "plain " << plain << ", rotated " << rotated;
}

TEST(PqRotationTest, RefusesModelsWhoseScoresARotationWouldChange) {
  const Snapshot dot = DotHistorySnapshot();
  absl::StatusOr<std::vector<float>> r = BalancedPqRotation(dot, 4);
  ASSERT_TRUE(r.ok());

  Snapshot mlp = DotHistorySnapshot();
  mlp.tensors.at(MlpTensorName(0, "weight")).bytes.as<float>()[0] = 0.5f;
  const std::vector<float> rows = RowsOf(mlp, "item/embeddings");
  absl::Status status = RotateItemTables(*r, &mlp);
  EXPECT_EQ(status.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_NE(status.message().find("dot-product scorer"), std::string::npos) << status;
  EXPECT_EQ(RowsOf(mlp, "item/embeddings"), rows);  // unchanged

  DemoModelOptions memcom;
  memcom.user_mode = snapshot::USER_MODE_HISTORY;
  memcom.d = kD;
  memcom.hidden = {};
  memcom.ratio = 4;
  memcom.clamp_ratio = true;
  absl::StatusOr<Snapshot> shared = MakeDemoSnapshot(memcom);
  ASSERT_TRUE(shared.ok()) << shared.status();
  status = RotateItemTables(*r, &*shared);
  EXPECT_EQ(status.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_NE(status.message().find("only full float32 tables"), std::string::npos) << status;

  Snapshot wrong_size = DotHistorySnapshot();
  status = RotateItemTables(std::vector<float>(9, 1.0f), &wrong_size);
  EXPECT_EQ(status.code(), absl::StatusCode::kFailedPrecondition);

  EXPECT_EQ(BalancedPqRotation(dot, 3).status().code(), absl::StatusCode::kFailedPrecondition);
}

}  // namespace
}  // namespace ranker
