// Trains a user-ID model (user and item tables) or a history model (item_in and item tables: the
// user vector is pooled from the items they saw), tables of any kind, with the RankNet scorer:
// RankNet pairwise loss log(1 + exp(-(s_pos - s_neg))) over each training interaction and
// `negatives` items sampled uniformly from those the user has not interacted with; Adagrad for
// the (sparse) tables, Adam for the scorer; early stopping on validation nDCG@10, which is
// evaluated through Model::Rank, exactly as the server ranks. With the MLP + dot scorer,
// training runs in two phases: first the dot product alone (the MLP's output layer is zero and
// frozen) until validation stops improving, then the MLP is trained as a residual on top; the
// best epoch of either phase is kept, so on validation the served scorer is never worse than
// the dot product it starts from. `threads` threads split every batch
// and their gradients are summed in a fixed order, so a seed (and thread count) gives the same
// model every time.
#ifndef RANKER_TRAINER_TRAINER_H_
#define RANKER_TRAINER_TRAINER_H_

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "interactions/interactions.h"
#include "model/model.h"
#include "model/snapshot.h"
#include "trainer/evaluator.h"
#include "trainer/split.h"
#include "trainer/trainable_scorer.h"
#include "trainer/trainable_table.h"

namespace ranker {

struct TrainOptions {
  // id: user and item tables. history: the user is the mean of item_in rows over their
  // training items (minus the pair's positive), items are scored with item rows.
  snapshot::UserMode user_mode = snapshot::USER_MODE_ID;
  TableKind kind = snapshot::MEMCOM;
  double ratio = 16;  // id: both tables; history: the input table (ignored for full)
  // History mode: the output (scored) item table.
  TableKind output_kind = snapshot::FULL;
  double output_ratio = 1;
  // History mode: one item table (of `kind` at `ratio`) is both the input and the output
  // table; output_kind and output_ratio are ignored. The snapshot has no item_in table.
  bool tied = false;
  // History mode: users are pooled over their most recent max_history items (0: all), in
  // training and in evaluation.
  size_t max_history = kDefaultMaxHistory;
  // How the tables' d-wide rows are stored (model/row_codec.h); training itself stays in float.
  // int8: every export rounds the rows, so the model is evaluated, selected and published with
  // int8 rows. pq: the best epoch's float tables are encoded once after training (k-means per
  // sub-vector position, seeded by `seed`), then evaluated on validation again and published.
  // The ratios count the stored bytes. `output_rows`, when set, is the output (item) table's
  // storage instead of `rows` (history models).
  RowStorage rows;
  std::optional<RowStorage> output_rows;
  // pq rows: epochs of fine-tuning after the encoding, codes fixed (trainer.cc): each trains
  // the decoded rows, refits the codebooks to them and is evaluated; the best on validation
  // (the plain encoding included) is kept. Tables and scorer start from the best epoch's (the
  // optimiser moments go on). Refused with int8 rows on either table.
  int pq_finetune_epochs = 0;
  bool clamp_ratio = false;  // a ratio the kind cannot reach gives its most compressed tables
  uint32_t d = 64;
  std::vector<uint32_t> hidden = {64, 32};
  ScorerMode scorer = ScorerMode::kMlpDot;
  int max_epochs = 30;
  int patience = 3;  // epochs without a better validation nDCG before stopping
  int batch = 256;   // positives per step
  int negatives = 4;
  TableOptimizer table_optimizer = TableOptimizer::kAdagrad;
  float embedding_lr = 0.05f;  // the tables' learning rate, for either optimizer
  float scorer_lr = 0.002f;
  float weight_decay = 1e-5f;
  float init_scale = 0.1f;
  uint64_t seed = 1;
  int threads = 2;
};

struct EpochReport {
  int epoch;
  bool mlp_trained;  // phase 2
  double loss;
  double validation_ndcg;
  double seconds;
  bool best;
};

struct TrainResult {
  Snapshot snapshot;  // the best epoch's model, ready to publish
  std::unique_ptr<const Model> model;
  int best_epoch = 0;
  Evaluation validation;  // of the published model (pq: after encoding)
  // pq rows: the best epoch's validation nDCG@10 before its tables were encoded.
  std::optional<double> float_validation_ndcg;
  std::optional<double> encoded_validation_ndcg;  // pq rows: after encoding, before fine-tuning
  int pq_finetune_best_epoch = 0;  // 0: the plain encoding was best (or no fine-tuning)
  double train_seconds = 0;
  double compression_ratio = 0;  // exact, both tables: full float bytes / stored bytes
  uint64_t table_bytes = 0;      // as served: tables and id maps
  // Per table, bytes of n x d floats / the table's bytes as stored: the user
  // side's (user or item_in; for tied tables the one item table) and the item table's.
  double input_ratio = 0, output_ratio = 0;
  // Parameters of the full user-ID model of the same data (users x d and items x d tables and
  // the same scorer) over the served model's (tables, scorer and, for history models, the
  // popularity prior): what a user saves by switching to this model.
  double ratio_vs_full_id_model = 0;
};

absl::StatusOr<TrainResult> Train(const Dataset& dataset, const Split& split,
                                  const TrainOptions& options,
                                  const std::function<void(const EpochReport&)>& on_epoch = {});

// A human-readable description of the options (stored in the manifest's producer).
std::string DescribeOptions(const TrainOptions& options);

}  // namespace ranker

#endif  // RANKER_TRAINER_TRAINER_H_
