#include "trainer/train_flags.h"

#include <optional>

#include "absl/flags/flag.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "common/status_macros.h"
#include "model/table_sizing.h"

ABSL_FLAG(std::string, kind, "memcom", absl::StrCat("Table kind: ", ranker::TableKindNames(), "."));
ABSL_FLAG(double, ratio, 16,
          "Embedding compression ratio (full n*d / table parameters): both tables of an id "
          "model, the input table of a history model.");
ABSL_FLAG(std::string, user_mode, "history",
          "history (the user is the mean of item_in rows over the items they saw; items are "
          "scored with item rows) or id (user and item tables: the first design, a baseline).");
ABSL_FLAG(std::string, output_kind, "full", "History models: kind of the output (item) table.");
ABSL_FLAG(double, output_ratio, 1, "History models: compression ratio of the output table.");
ABSL_FLAG(std::string, rows, "float32",
          "How both tables' d-wide rows are stored: float32; int8 (a float scale per row, about "
          "4x smaller rows; every epoch is evaluated with them); or pq<M>x<bits> (product "
          "quantisation: M sub-vectors of 4- or 8-bit codes into a k-means codebook, e.g. "
          "pq16x8 = 16 bytes per row; the best float epoch is encoded after training). Training "
          "stays in float.");
ABSL_FLAG(std::string, output_rows, "",
          "History models: the output (item) table's row storage, if not --rows.");
ABSL_FLAG(int, pq_finetune_epochs, 0,
          "pq rows: epochs of fine-tuning after the encoding, codes fixed: each trains the "
          "decoded rows and refits the codebooks to them; the best on validation is kept.");
ABSL_FLAG(bool, int8_rows, false, "Same as --rows int8 (kept for older commands).");
ABSL_FLAG(bool, tied, false,
          "History models: one item table (--kind at --ratio) is both the input and the output "
          "table; --output_kind and --output_ratio are ignored.");
ABSL_FLAG(uint64_t, max_history, ranker::kDefaultMaxHistory,
          "History models: pool each user's most recent this many items (0: all), in training "
          "and evaluation.");
ABSL_FLAG(uint32_t, d, 64, "Embedding dimension.");
ABSL_FLAG(std::string, hidden, "64,32", "MLP hidden widths.");
ABSL_FLAG(std::string, scorer, "mlp+dot", "mlp+dot, mlp or dot.");
ABSL_FLAG(int, max_epochs, 30, "Most epochs (early stopping on validation nDCG@10).");
ABSL_FLAG(int, patience, 3, "Epochs without improvement before stopping.");
ABSL_FLAG(int, negatives, 4, "Sampled negatives per positive.");
ABSL_FLAG(int, batch, 256, "Positives per step.");
ABSL_FLAG(std::string, table_optimizer, "adagrad",
          "How table rows learn: adagrad, or adam (sparse: only the rows a batch touched).");
ABSL_FLAG(double, embedding_lr, 0.05, "Learning rate of the tables (for either optimizer).");
ABSL_FLAG(double, scorer_lr, 0.002, "Adam learning rate of the scorer.");
// Optional so that the sweep can tell a chosen value from the default.
ABSL_FLAG(
    std::optional<double>, weight_decay, std::nullopt,
    "L2 on touched table rows (train: 1e-5 if not given). ranker-experiments: if given, every "
    "run uses it; otherwise each configuration picks one from a small grid on validation.");
ABSL_FLAG(uint64_t, seed, 1, "Seed of the split, initialisation and sampling.");
ABSL_FLAG(int, threads, 2,
          "Threads that split each training batch; results depend on the seed and the thread "
          "count.");

namespace ranker {

absl::StatusOr<std::vector<uint32_t>> ParseWidths(const std::string& text) {
  std::vector<uint32_t> widths;
  for (absl::string_view part : absl::StrSplit(text, ',', absl::SkipEmpty())) {
    uint32_t w = 0;
    if (!absl::SimpleAtoi(part, &w) || w == 0) {
      return absl::InvalidArgumentError(absl::StrCat("bad width '", part, "'"));
    }
    widths.push_back(w);
  }
  return widths;
}

absl::StatusOr<TrainOptions> TrainOptionsFromFlags() {
  TrainOptions o;
  const std::string user_mode = absl::GetFlag(FLAGS_user_mode);
  if (user_mode != "id" && user_mode != "history") {
    return absl::InvalidArgumentError(
        absl::StrCat("--user_mode must be id or history, got '", user_mode, "'"));
  }
  o.user_mode = user_mode == "history" ? snapshot::USER_MODE_HISTORY : snapshot::USER_MODE_ID;
  ASSIGN_OR_RETURN(o.kind, ParseTableKind(absl::GetFlag(FLAGS_kind)));
  o.ratio = absl::GetFlag(FLAGS_ratio);
  ASSIGN_OR_RETURN(o.output_kind, ParseTableKind(absl::GetFlag(FLAGS_output_kind)));
  o.output_ratio = absl::GetFlag(FLAGS_output_ratio);
  o.tied = absl::GetFlag(FLAGS_tied);
  ASSIGN_OR_RETURN(o.rows, ParseRowStorage(absl::GetFlag(FLAGS_rows)));
  if (absl::GetFlag(FLAGS_int8_rows)) o.rows.dtype = snapshot::INT8;
  o.pq_finetune_epochs = absl::GetFlag(FLAGS_pq_finetune_epochs);
  if (const std::string output_rows = absl::GetFlag(FLAGS_output_rows); !output_rows.empty()) {
    ASSIGN_OR_RETURN(o.output_rows, ParseRowStorage(output_rows));
  }
  o.max_history = absl::GetFlag(FLAGS_max_history);
  o.d = absl::GetFlag(FLAGS_d);
  ASSIGN_OR_RETURN(o.hidden, ParseWidths(absl::GetFlag(FLAGS_hidden)));
  ASSIGN_OR_RETURN(o.scorer, ParseScorerMode(absl::GetFlag(FLAGS_scorer)));
  o.max_epochs = absl::GetFlag(FLAGS_max_epochs);
  o.patience = absl::GetFlag(FLAGS_patience);
  o.negatives = absl::GetFlag(FLAGS_negatives);
  o.batch = absl::GetFlag(FLAGS_batch);
  ASSIGN_OR_RETURN(o.table_optimizer, ParseTableOptimizer(absl::GetFlag(FLAGS_table_optimizer)));
  o.embedding_lr = static_cast<float>(absl::GetFlag(FLAGS_embedding_lr));
  o.scorer_lr = static_cast<float>(absl::GetFlag(FLAGS_scorer_lr));
  if (const std::optional<double> wd = absl::GetFlag(FLAGS_weight_decay)) {
    o.weight_decay = static_cast<float>(*wd);
  }
  o.seed = absl::GetFlag(FLAGS_seed);
  o.threads = absl::GetFlag(FLAGS_threads);
  return o;
}

bool WeightDecayFlagGiven() { return absl::GetFlag(FLAGS_weight_decay).has_value(); }

}  // namespace ranker
