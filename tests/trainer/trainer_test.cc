// End-to-end training on generated data with planted structure: the model must learn it, the
// published snapshot must score exactly as the trained model.
#include "trainer/trainer.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <random>
#include <set>
#include <sstream>

#include "model/row_budget.h"
#include "model_store/model_loader.h"
#include "model_store/snapshot_store.h"
#include "tests/interactions/interactions_csv.h"
#include "tests/support/planted_dataset.h"
#include "tests/support/test_util.h"

namespace ranker {
namespace {

using ::ranker::testing::TempDir;

// Publishes `snapshot` as version 1 of a new store at `path` and loads it back as the server
// would (through a secondary instance).
absl::StatusOr<std::unique_ptr<const Model>> PublishAndLoad(Snapshot& snapshot,
                                                            const std::string& path) {
  StoreOptions create;
  create.create_if_missing = true;
  {
    auto store = SnapshotStore::OpenPrimary(path, create);
    if (!store.ok()) return store.status();
    if (auto version = (*store)->Publish(snapshot); !version.ok()) return version.status();
  }
  auto store = SnapshotStore::OpenSecondary(path);
  if (!store.ok()) return store.status();
  return LoadModel(**store, 1);
}

TrainOptions SmallOptions(TableKind kind) {
  TrainOptions o;
  o.kind = kind;
  o.ratio = 4;
  o.d = 16;
  o.hidden = {16};
  o.max_epochs = 20;
  o.weight_decay = 1e-4f;
  return o;
}

TEST(TrainingTest, LearnsPlantedStructureFarBeyondPopularity) {
  const Dataset data = testing::PlantedDataset();
  const Split split = SplitPerUser(data);
  const Evaluation popularity = EvaluatePopularity(split, HeldOut::kTest);
  // Uncompressed: far beyond popularity.
  auto full = Train(data, split, SmallOptions(snapshot::FULL));
  ASSERT_TRUE(full.ok()) << full.status();
  const Evaluation full_test = EvaluateModel(*full->model, data, split, HeldOut::kTest);
  EXPECT_GT(full_test.ndcg.mean, 2 * popularity.ndcg.mean)
      << "full " << full_test.ndcg.mean << " vs popularity " << popularity.ndcg.mean;
  EXPECT_GT(full_test.ndcg.mean - popularity.ndcg.mean, 4 * full_test.ndcg.stderr_);
  // MEmCom at 4x: identity hashing puts users of different clusters on one shared row here,
  // so it learns less, but still clearly more than popularity.
  auto memcom = Train(data, split, SmallOptions(snapshot::MEMCOM));
  ASSERT_TRUE(memcom.ok()) << memcom.status();
  const Evaluation memcom_test = EvaluateModel(*memcom->model, data, split, HeldOut::kTest);
  EXPECT_GT(memcom_test.ndcg.mean - popularity.ndcg.mean, 2 * memcom_test.ndcg.stderr_)
      << "memcom " << memcom_test.ndcg.mean << " vs popularity " << popularity.ndcg.mean;
}

TEST(TrainingTest, SameSeedSameModel) {
  const Dataset data = testing::PlantedDataset();
  const Split split = SplitPerUser(data);
  TrainOptions options = SmallOptions(snapshot::MEMCOM);
  options.max_epochs = 2;
  auto a = Train(data, split, options);
  auto b = Train(data, split, options);
  ASSERT_TRUE(a.ok() && b.ok());
  for (const auto& [name, tensor] : a->snapshot.tensors) {
    const Tensor& other = b->snapshot.tensors.at(name);
    ASSERT_EQ(tensor.bytes.size(), other.bytes.size());
    EXPECT_EQ(std::memcmp(tensor.bytes.data(), other.bytes.data(), tensor.bytes.size()), 0) << name;
  }
}

TEST(TrainingTest, PublishedModelScoresExactlyAsTrained) {
  const Dataset data = testing::PlantedDataset();
  const Split split = SplitPerUser(data);
  TrainOptions options = SmallOptions(snapshot::MEMCOM_FREQ);
  options.max_epochs = 3;
  auto result = Train(data, split, options);
  ASSERT_TRUE(result.ok()) << result.status();
  TempDir dir;
  auto loaded = PublishAndLoad(result->snapshot, dir.Sub("store"));
  ASSERT_TRUE(loaded.ok()) << loaded.status();
  EXPECT_TRUE((*loaded)->user().ids.ToIndex(1000).has_value());  // the dataset's own ids
  RankScratch scratch;
  RankResult trained, served;
  for (uint64_t user : {1000u, 1005u, 1239u}) {
    result->model->Rank(user, {}, 50, &scratch, &trained);
    (*loaded)->Rank(user, {}, 50, &scratch, &served);
    ASSERT_EQ(trained.items.size(), served.items.size());
    for (size_t r = 0; r < trained.items.size(); ++r) {
      EXPECT_EQ(trained.items[r].id, served.items[r].id);
      EXPECT_EQ(trained.items[r].score, served.items[r].score);
    }
  }
  // The served evaluation equals the trainer's.
  const Evaluation a = EvaluateModel(*result->model, data, split, HeldOut::kTest);
  const Evaluation b = EvaluateModel(**loaded, data, split, HeldOut::kTest);
  EXPECT_EQ(a.per_user_ndcg, b.per_user_ndcg);
}

// A history model learns the planted clusters from what users saw (no user table at all), is
// published and served with the same scores, and ranks users without history by popularity.
TEST(TrainingTest, HistoryModelLearnsFromWhatUsersSawAndServesAsTrained) {
  const Dataset data = testing::PlantedDataset();
  const Split split = SplitPerUser(data);
  const Evaluation popularity = EvaluatePopularity(split, HeldOut::kTest);
  TrainOptions options = SmallOptions(snapshot::MEMCOM);
  options.user_mode = snapshot::USER_MODE_HISTORY;
  options.output_kind = snapshot::FULL;
  auto result = Train(data, split, options);
  ASSERT_TRUE(result.ok()) << result.status();
  ASSERT_TRUE(result->model->history_mode());
  EXPECT_EQ(result->model->FindFeature("user"), nullptr);
  ASSERT_NE(result->model->FindFeature("item_in"), nullptr);
  const Evaluation test = EvaluateModel(*result->model, data, split, HeldOut::kTest);
  EXPECT_GT(test.ndcg.mean, 2 * popularity.ndcg.mean)
      << "history " << test.ndcg.mean << " vs popularity " << popularity.ndcg.mean;
  EXPECT_EQ(result->snapshot.manifest.users(), data.users());

  TempDir dir;
  auto loaded = PublishAndLoad(result->snapshot, dir.Sub("store"));
  ASSERT_TRUE(loaded.ok()) << loaded.status();
  const Evaluation served = EvaluateModel(**loaded, data, split, HeldOut::kTest);
  EXPECT_EQ(test.per_user_ndcg, served.per_user_ndcg);

  // No history: the training popularity, most interacted item first.
  RankScratch scratch;
  RankResult ranked;
  RankQuery query;
  query.k = 1;
  (*loaded)->Rank(query, &scratch, &ranked);
  EXPECT_TRUE(ranked.popularity);
  const auto most_popular =
      std::max_element(split.train_item_counts.begin(), split.train_item_counts.end()) -
      split.train_item_counts.begin();
  ASSERT_EQ(ranked.items.size(), 1u);
  EXPECT_EQ(ranked.items[0].id, data.item_ids[most_popular]);
}

// --int8_rows: training stays in float, the exported, evaluated and published tables are int8
// (4x smaller rows), the store round-trips them, and the model still learns the planted data.
TEST(TrainingTest, Int8RowsArePublishedAsInt8AndServedAsEvaluated) {
  const Dataset data = testing::PlantedDataset();
  const Split split = SplitPerUser(data);
  const Evaluation popularity = EvaluatePopularity(split, HeldOut::kTest);
  TrainOptions options = SmallOptions(snapshot::MEMCOM);
  options.user_mode = snapshot::USER_MODE_HISTORY;
  options.output_kind = snapshot::FULL;
  options.rows.dtype = snapshot::INT8;
  auto result = Train(data, split, options);
  ASSERT_TRUE(result.ok()) << result.status();
  for (const TableSpec& spec : result->snapshot.manifest.tables()) {
    EXPECT_EQ(spec.row_dtype(), snapshot::INT8) << spec.feature();
  }
  EXPECT_EQ(result->snapshot.tensors.at("item/embeddings").dtype, snapshot::INT8);
  EXPECT_EQ(result->snapshot.tensors.at("item_in/weight").dtype, snapshot::FLOAT32);
  ASSERT_EQ(result->model->item().table.spec().row_dtype(), snapshot::INT8);
  const Evaluation test = EvaluateModel(*result->model, data, split, HeldOut::kTest);
  EXPECT_GT(test.ndcg.mean, 2 * popularity.ndcg.mean)
      << "int8 history " << test.ndcg.mean << " vs popularity " << popularity.ndcg.mean;

  TempDir dir;
  auto loaded = PublishAndLoad(result->snapshot, dir.Sub("store"));
  ASSERT_TRUE(loaded.ok()) << loaded.status();
  EXPECT_EQ((*loaded)->item().table.spec().row_dtype(), snapshot::INT8);
  EXPECT_EQ((*loaded)->resident_bytes(), result->model->resident_bytes());
  const Evaluation served = EvaluateModel(**loaded, data, split, HeldOut::kTest);
  EXPECT_EQ(test.per_user_ndcg, served.per_user_ndcg);
}

// pq rows (one storage per table): the best float epoch's tables are encoded after training,
// the model is evaluated again with them, its ratio counts codes and codebooks, the store
// round-trips them and serving gives the same per-user metrics; the model still learns.
TEST(TrainingTest, PqRowsAreEncodedAfterTrainingAndServedAsEvaluated) {
  const Dataset data = testing::PlantedDataset();
  const Split split = SplitPerUser(data);
  const Evaluation popularity = EvaluatePopularity(split, HeldOut::kTest);
  TrainOptions options = SmallOptions(snapshot::FULL);
  options.user_mode = snapshot::USER_MODE_HISTORY;
  options.output_kind = snapshot::FULL;
  options.rows = *ParseRowStorage("pq4x4");
  options.output_rows = *ParseRowStorage("pq8x4");
  auto result = Train(data, split, options);
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_EQ(RowStorageName(RowStorageOf(result->snapshot.manifest.tables(0))), "pq4x4");
  EXPECT_EQ(RowStorageName(RowStorageOf(result->snapshot.manifest.tables(1))), "pq8x4");
  EXPECT_EQ(result->snapshot.tensors.at("item/embeddings").dtype, snapshot::UINT8);
  EXPECT_TRUE(result->snapshot.tensors.contains("item/embeddings_codebook"));
  ASSERT_TRUE(result->float_validation_ndcg.has_value());
  // Validation is the encoded model's, evaluated again: the very figure of the served model.
  const Evaluation validation = EvaluateModel(*result->model, data, split, HeldOut::kValidation);
  EXPECT_EQ(validation.ndcg.mean, result->validation.ndcg.mean);
  // Whole-model ratio: both full float tables over codes and codebooks.
  const double n = static_cast<double>(data.items()), d = options.d;
  const double stored = n * 2 + 16.0 * d * 4 + n * 4 + 16.0 * d * 4;
  EXPECT_NEAR(result->compression_ratio, 2 * n * d * 4 / stored, 1e-9);
  const Evaluation test = EvaluateModel(*result->model, data, split, HeldOut::kTest);
  EXPECT_GT(test.ndcg.mean, 2 * popularity.ndcg.mean)
      << "pq history " << test.ndcg.mean << " vs popularity " << popularity.ndcg.mean;

  TempDir dir;
  auto loaded = PublishAndLoad(result->snapshot, dir.Sub("store"));
  ASSERT_TRUE(loaded.ok()) << loaded.status();
  EXPECT_TRUE(HasPqRows((*loaded)->item().table.spec()));
  EXPECT_EQ((*loaded)->resident_bytes(), result->model->resident_bytes());
  const Evaluation served = EvaluateModel(**loaded, data, split, HeldOut::kTest);
  EXPECT_EQ(test.per_user_ndcg, served.per_user_ndcg);
}

// Head/tail pq rows: the trainer's popularity prior picks the head, the ratio counts what the
// server loads, and the published model serves the metrics the trainer measured.
TEST(TrainingTest, HeadTailRowsAreEncodedAfterTrainingAndServedAsEvaluated) {
  const Dataset data = testing::PlantedDataset();
  const Split split = SplitPerUser(data);
  TrainOptions options = SmallOptions(snapshot::FULL);
  options.user_mode = snapshot::USER_MODE_HISTORY;
  options.output_kind = snapshot::FULL;
  options.rows = *ParseRowStorage("head25:pq4x8+pq2x4");
  auto result = Train(data, split, options);
  ASSERT_TRUE(result.ok()) << result.status();
  for (const TableSpec& spec : result->snapshot.manifest.tables()) {
    EXPECT_EQ(RowStorageName(RowStorageOf(spec)), "head25:pq4x8+pq2x4") << spec.feature();
  }
  // The head is the most popular quarter of the training items.
  const auto bits = result->snapshot.tensors.at("item/embeddings_head").bytes.as<uint64_t>();
  uint64_t head_count = 0, head_interactions = 0, all_interactions = 0;
  for (uint64_t i = 0; i < data.items(); ++i) {
    const bool head = (bits[i / 64] >> (i % 64)) & 1;
    head_count += head;
    head_interactions += head ? split.train_item_counts[i] : 0;
    all_interactions += split.train_item_counts[i];
  }
  EXPECT_EQ(head_count, (data.items() + 2) / 4);
  EXPECT_GT(head_interactions, all_interactions / 4) << "the head holds the popular items";
  // As stored: the rule's resident bytes (FullTableBytes) less the rank directory built at load.
  const double n = static_cast<double>(data.items());
  const double stored =
      FullTableBytes(data.items(), options.d, options.rows) - (data.items() / 512 + 1) * 4.0;
  EXPECT_NEAR(result->compression_ratio, 2 * n * options.d * 4 / (2.0 * stored), 1e-9);

  TempDir dir;
  auto loaded = PublishAndLoad(result->snapshot, dir.Sub("store"));
  ASSERT_TRUE(loaded.ok()) << loaded.status();
  EXPECT_TRUE(HasHeadTailRows((*loaded)->item().table.spec()));
  EXPECT_EQ((*loaded)->resident_bytes(), result->model->resident_bytes());
  const Evaluation test = EvaluateModel(*result->model, data, split, HeldOut::kTest);
  const Evaluation served = EvaluateModel(**loaded, data, split, HeldOut::kTest);
  EXPECT_EQ(test.per_user_ndcg, served.per_user_ndcg);

  // What head/tail rows cannot do is refused before training: user-ID models have no
  // popularity prior, and fine-tuning does not refit them.
  options.user_mode = snapshot::USER_MODE_ID;
  EXPECT_NE(Train(data, split, options).status().message().find("needs a history model"),
            std::string::npos);
  options.user_mode = snapshot::USER_MODE_HISTORY;
  options.pq_finetune_epochs = 1;
  EXPECT_NE(Train(data, split, options).status().message().find("does not refit head/tail"),
            std::string::npos);
}

// Row storages that could not be served or fine-tuned are refused before any epoch runs.
TEST(TrainingTest, UnusableRowStoragesAreRefusedBeforeTraining) {
  const Dataset data = testing::PlantedDataset();
  const Split split = SplitPerUser(data);
  TrainOptions options = SmallOptions(snapshot::FULL);
  options.user_mode = snapshot::USER_MODE_HISTORY;
  options.rows = *ParseRowStorage("pq3x8");  // 3 sub-vectors do not divide d = 16
  auto result = Train(data, split, options);
  EXPECT_EQ(result.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(result.status().message().find("row storage pq3x8"), std::string::npos)
      << result.status();
  options.rows.dtype = snapshot::INT8;
  options.output_rows = *ParseRowStorage("pq4x8");
  options.pq_finetune_epochs = 1;
  result = Train(data, split, options);
  EXPECT_EQ(result.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(result.status().message().find("not int8"), std::string::npos) << result.status();
}

}  // namespace
}  // namespace ranker
