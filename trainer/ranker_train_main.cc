// ranker-train: learn MEmCom (or baseline) tables and the RankNet scorer from interaction logs,
// evaluate them honestly, compare methods, and publish snapshots.
#include <cstdio>
#include <optional>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "common/command_line.h"
#include "common/status_macros.h"
#include "model/table_sizing.h"
#include "model_store/history_store.h"
#include "model_store/snapshot_store.h"
#include "trainer/retrieval.h"
#include "trainer/sweep.h"
#include "trainer/sweep_method.h"
#include "trainer/trainer.h"
#include "trainer/user_histories.h"

ABSL_FLAG(std::string, data, "",
          "train: interaction log (u.data, ratings.csv or user,item[,...] CSV).");
ABSL_FLAG(std::string, format, "auto", "train: auto, movielens-tab or csv.");
ABSL_FLAG(std::string, name, "", "train: dataset name for reports (default: the path).");
ABSL_FLAG(std::string, kind, "memcom", absl::StrCat("Table kind: ", ranker::TableKindNames(), "."));
ABSL_FLAG(double, ratio, 16,
          "Embedding compression ratio (full n*d / table parameters): both tables of an id "
          "model, the input table of a history model.");
ABSL_FLAG(std::string, user_mode, "history",
          "history (the user is the mean of item_in rows over the items they saw; items are "
          "scored with item rows) or id (user and item tables: the first design, a baseline).");
ABSL_FLAG(std::string, output_kind, "full", "History models: kind of the output (item) table.");
ABSL_FLAG(double, output_ratio, 1, "History models: compression ratio of the output table.");
ABSL_FLAG(bool, int8_rows, false,
          "Store both tables' d-wide rows as int8 with a float scale per row (about 4x smaller "
          "rows; training stays in float, evaluation and the published model use int8).");
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
ABSL_FLAG(double, embedding_lr, 0.05, "Adagrad learning rate of the tables.");
ABSL_FLAG(double, scorer_lr, 0.002, "Adam learning rate of the scorer.");
// Optional so that the sweep can tell a chosen value from the default.
ABSL_FLAG(std::optional<double>, weight_decay, std::nullopt,
          "L2 on touched table rows (train: 1e-5 if not given). sweep, retrieval: if given, every "
          "run uses it; otherwise each configuration picks one from a small grid on validation.");
ABSL_FLAG(uint64_t, seed, 1, "Seed of the split, initialisation and sampling.");
ABSL_FLAG(int, threads, 2,
          "Threads that split each training batch; results depend on the seed and the thread "
          "count.");
ABSL_FLAG(std::string, publish, "", "train: publish the trained model to this store.");
ABSL_FLAG(bool, publish_histories, true,
          "train --publish, history models: first append every user's items from --data (the "
          "whole log, in time order; items already stored keep their place) to the store's "
          "histories, so Rank(user_id) works without history ids.");
ABSL_FLAG(uint32_t, history_cap, 200,
          "train --publish: most items kept per user in the stored histories (the newest "
          "distinct ones); use the same cap as `ranker-store history import`.");
ABSL_FLAG(std::string, datasets, "",
          "sweep, retrieval: NAME=PATH,... e.g. ml-100k=../shared/data/ml-100k/u.data");
// --ratios and --methods default to the command's own defaults (empty: not given).
ABSL_FLAG(std::string, ratios, "",
          "sweep: compression ratios (default 4,16,64). retrieval: those of compressed user-ID "
          "methods (default 16).");
ABSL_FLAG(std::string, methods, "",
          absl::StrCat("sweep: methods besides popularity, which is always run (full and dot are "
                       "uncompressed; dot is the dot product alone; default ",
                       ranker::SweepMethodNames(ranker::DefaultSweepMethods()),
                       "). retrieval: the models measured (default ",
                       ranker::SweepMethodNames(ranker::DefaultRetrievalMethods()), ")."));
ABSL_FLAG(int, seeds, 3, "sweep, retrieval: seeds per configuration.");
ABSL_FLAG(std::string, retrieve_ns, "10,20,50,100,200,500,1000,2000,5000",
          "retrieval: the Ns stage 1 keeps (positive); each dataset's catalogue size is always "
          "added as the last N, and Ns at or above it are dropped.");
ABSL_FLAG(std::string, history_weight_decays, "1e-4",
          "sweep, retrieval: weight decays history models try on seed 1's validation split (one "
          "value: no search).");
ABSL_FLAG(std::string, out, "docs",
          "sweep: directory for results.md, results.csv, results.png. retrieval: for "
          "results_retrieval.md, .csv, .gp and .png.");

namespace ranker {
namespace {

constexpr char kUsage[] = R"(ranker-train: train and evaluate MEmCom ranking models.

Usage:
  ranker-train train --data PATH [--kind memcom --ratio 16 --d 64 --scorer mlp+dot]
                     [--user_mode history|id --output_kind full --output_ratio 1 --tied]
                     [--int8_rows]
                     [--max_history 200]
                     [--seed 1] [--publish STORE]
  ranker-train sweep --datasets ml-100k=PATH,ml-latest-small=PATH [--seeds 3] [--out docs]
  ranker-train retrieval --datasets ml-100k=PATH,ml-latest-small=PATH [--seeds 3 --threads 2]
                     [--methods history:memcom@16+full,history:memcom@16+memcom@16,full,memcom]
                     [--ratios 16] [--retrieve_ns 10,20,50,100,200,500,1000,2000,5000]
                     [--out docs]

Protocol: per user in time order, the last 20% of interactions are test, the 10% before them
validation, the rest training. Early stopping and model selection use validation only. nDCG@10
and Recall@10 rank the full catalogue minus the user's known items, every held-out item
relevant; means with standard errors over users.

retrieval (issue 13): trains each model as the sweep does (same splits, seeds, weight-decay
search), then ranks the test split exhaustively (the scorer over the whole catalogue) and in
two stages at every N (stage 1 keeps the best N by the dot-product term u . e_i, stage 2 ranks
them with the scorer). Writes results_retrieval.md (included by the next `sweep` into
results.md), .csv and .png: nDCG@10 against N, its paired relative difference to the
exhaustive ranking, the recall of the exhaustive top 10 inside stage 1's N, and the smallest N
within 1% on every set.)";

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

absl::StatusOr<TrainOptions> OptionsFromFlags() {
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
  o.int8_rows = absl::GetFlag(FLAGS_int8_rows);
  o.max_history = absl::GetFlag(FLAGS_max_history);
  o.d = absl::GetFlag(FLAGS_d);
  ASSIGN_OR_RETURN(o.hidden, ParseWidths(absl::GetFlag(FLAGS_hidden)));
  ASSIGN_OR_RETURN(o.scorer, ParseScorerMode(absl::GetFlag(FLAGS_scorer)));
  o.max_epochs = absl::GetFlag(FLAGS_max_epochs);
  o.patience = absl::GetFlag(FLAGS_patience);
  o.negatives = absl::GetFlag(FLAGS_negatives);
  o.batch = absl::GetFlag(FLAGS_batch);
  o.embedding_lr = static_cast<float>(absl::GetFlag(FLAGS_embedding_lr));
  o.scorer_lr = static_cast<float>(absl::GetFlag(FLAGS_scorer_lr));
  if (const std::optional<double> wd = absl::GetFlag(FLAGS_weight_decay)) {
    o.weight_decay = static_cast<float>(*wd);
  }
  o.seed = absl::GetFlag(FLAGS_seed);
  o.threads = absl::GetFlag(FLAGS_threads);
  return o;
}

absl::Status TrainCommand() {
  if (absl::GetFlag(FLAGS_data).empty()) return absl::InvalidArgumentError("--data is required");
  ASSIGN_OR_RETURN(LogFormat format, ParseLogFormat(absl::GetFlag(FLAGS_format)));
  ASSIGN_OR_RETURN(Dataset dataset,
                   ReadInteractions(absl::GetFlag(FLAGS_data), format, absl::GetFlag(FLAGS_name)));
  ASSIGN_OR_RETURN(TrainOptions options, OptionsFromFlags());
  SplitOptions split_options;
  split_options.seed = options.seed;
  const Split split = SplitPerUser(dataset, split_options);
  std::fprintf(stderr, "%s: %zu users, %zu items, %zu interactions (%zu for training)\n",
               dataset.name.c_str(), dataset.users(), dataset.items(), dataset.interactions.size(),
               split.train_interactions);
  std::fprintf(stderr, "training %s\n", DescribeOptions(options).c_str());
  ASSIGN_OR_RETURN(TrainResult result, Train(dataset, split, options, [](const EpochReport& r) {
                     std::fprintf(stderr,
                                  "  epoch %2d %-3s loss %.4f  validation nDCG@10 %.4f%s  %.1f s\n",
                                  r.epoch, r.mlp_trained ? "mlp" : "", r.loss, r.validation_ndcg,
                                  r.best ? " *" : "", r.seconds);
                   }));
  const Evaluation test = EvaluateModel(*result.model, dataset, split, HeldOut::kTest,
                                        options.threads, options.max_history);
  const Evaluation popularity = EvaluatePopularity(split, HeldOut::kTest);
  std::printf("%s %s ratio %.2fx (%lu table bytes), best epoch %d, %.1f s\n", dataset.name.c_str(),
              TableKindName(options.kind).c_str(), result.compression_ratio, result.table_bytes,
              result.best_epoch, result.train_seconds);
  std::printf("  test nDCG@10   %.4f +- %.4f   Recall@10 %.4f +- %.4f  (%zu users)\n",
              test.ndcg.mean, test.ndcg.stderr_, test.recall.mean, test.recall.stderr_,
              test.ndcg.n);
  std::printf("  popularity     %.4f +- %.4f             %.4f +- %.4f\n", popularity.ndcg.mean,
              popularity.ndcg.stderr_, popularity.recall.mean, popularity.recall.stderr_);
  if (!absl::GetFlag(FLAGS_publish).empty()) {
    auto& producer = *result.snapshot.manifest.mutable_producer();
    producer["validation_ndcg@10"] = absl::StrCat(result.validation.ndcg.mean);
    producer["test_ndcg@10"] = absl::StrCat(test.ndcg.mean, " +- ", test.ndcg.stderr_);
    producer["test_recall@10"] = absl::StrCat(test.recall.mean, " +- ", test.recall.stderr_);
    producer["best_epoch"] = absl::StrCat(result.best_epoch);
    producer["train_seconds"] = absl::StrCat(result.train_seconds);
    StoreOptions create;
    create.create_if_missing = true;
    if (options.user_mode == snapshot::USER_MODE_HISTORY &&
        absl::GetFlag(FLAGS_publish_histories)) {
      // Before the model, so that the version that needs them finds them when it goes live.
      ASSIGN_OR_RETURN(auto histories,
                       HistoryStore::OpenWriter(absl::GetFlag(FLAGS_publish), create));
      ASSIGN_OR_RETURN(AppendStats stats,
                       histories->Append(UserHistoriesOf(dataset), absl::GetFlag(FLAGS_history_cap),
                                         AppendMode::kAddMissing));
      std::printf("stored the histories of %lu users (%lu interactions) in %s\n", stats.users,
                  stats.items_read, histories->path().c_str());
    }
    ASSIGN_OR_RETURN(auto store, SnapshotStore::OpenPrimary(absl::GetFlag(FLAGS_publish), create));
    ASSIGN_OR_RETURN(uint64_t version, store->Publish(result.snapshot));
    std::printf("published version %lu to %s\n", version, store->path().c_str());
  }
  return absl::OkStatus();
}

absl::StatusOr<std::vector<std::pair<std::string, std::string>>> DatasetsFromFlag() {
  std::vector<std::pair<std::string, std::string>> datasets;
  for (absl::string_view entry :
       absl::StrSplit(absl::GetFlag(FLAGS_datasets), ',', absl::SkipEmpty())) {
    std::vector<std::string> parts = absl::StrSplit(entry, absl::MaxSplits('=', 1));
    if (parts.size() != 2) {
      return absl::InvalidArgumentError(absl::StrCat("--datasets: '", entry, "' is not NAME=PATH"));
    }
    datasets.push_back({parts[0], parts[1]});
  }
  if (datasets.empty()) return absl::InvalidArgumentError("--datasets is required");
  return datasets;
}

// Keeps `*ratios` (the command's default) when --ratios is empty.
absl::Status RatiosFromFlag(std::vector<double>* ratios) {
  if (absl::GetFlag(FLAGS_ratios).empty()) return absl::OkStatus();
  ratios->clear();
  for (absl::string_view r : absl::StrSplit(absl::GetFlag(FLAGS_ratios), ',', absl::SkipEmpty())) {
    double ratio = 0;
    if (!absl::SimpleAtod(r, &ratio)) {
      return absl::InvalidArgumentError(absl::StrCat("--ratios: '", r, "' is not a number"));
    }
    ratios->push_back(ratio);
  }
  return absl::OkStatus();
}

// Keeps `*methods` (the command's default) when --methods is empty.
absl::Status MethodsFromFlag(std::vector<SweepMethod>* methods) {
  if (absl::GetFlag(FLAGS_methods).empty()) return absl::OkStatus();
  ASSIGN_OR_RETURN(*methods, ParseSweepMethods(absl::GetFlag(FLAGS_methods)));
  return absl::OkStatus();
}

// The sweep's training protocol from the flags: methods and ratios are left to the caller.
absl::Status ProtocolFromFlags(SweepOptions* sweep) {
  ASSIGN_OR_RETURN(sweep->datasets, DatasetsFromFlag());
  sweep->seeds = absl::GetFlag(FLAGS_seeds);
  sweep->out_dir = absl::GetFlag(FLAGS_out);
  ASSIGN_OR_RETURN(sweep->base, OptionsFromFlags());
  sweep->history_weight_decay_grid.clear();
  for (absl::string_view w :
       absl::StrSplit(absl::GetFlag(FLAGS_history_weight_decays), ',', absl::SkipEmpty())) {
    float wd = 0;
    if (!absl::SimpleAtof(w, &wd)) return absl::InvalidArgumentError("bad --history_weight_decays");
    sweep->history_weight_decay_grid.push_back(wd);
  }
  // A weight decay the user chose is not overridden by the search.
  if (absl::GetFlag(FLAGS_weight_decay).has_value()) {
    sweep->weight_decay_grid.clear();
    sweep->dot_weight_decay_grid.clear();
    sweep->history_weight_decay_grid.clear();
  }
  return absl::OkStatus();
}

absl::Status SweepCommand() {
  SweepOptions sweep;
  RETURN_IF_ERROR(ProtocolFromFlags(&sweep));
  RETURN_IF_ERROR(RatiosFromFlag(&sweep.ratios));
  RETURN_IF_ERROR(MethodsFromFlag(&sweep.methods));
  return RunSweep(sweep);
}

absl::Status RetrievalCommand() {
  RetrievalOptions options;
  RETURN_IF_ERROR(ProtocolFromFlags(&options.sweep));
  RETURN_IF_ERROR(RatiosFromFlag(&options.sweep.ratios));
  RETURN_IF_ERROR(MethodsFromFlag(&options.sweep.methods));
  ASSIGN_OR_RETURN(options.retrieve_ns, ParseRetrieveNs(absl::GetFlag(FLAGS_retrieve_ns)));
  return RunRetrieval(options);
}

absl::Status Run(const std::vector<char*>& args) {
  if (args.size() != 2) {
    return absl::InvalidArgumentError("give one command: train, sweep or retrieval");
  }
  const std::string command = args[1];
  if (command == "train") return TrainCommand();
  if (command == "sweep") return SweepCommand();
  if (command == "retrieval") return RetrievalCommand();
  return absl::InvalidArgumentError(absl::StrCat("unknown command '", command, "'"));
}

}  // namespace
}  // namespace ranker

int main(int argc, char** argv) {
  absl::Status status =
      ranker::Run(ranker::ParseToolCommandLine(argc, argv, ranker::kUsage, "ranker_train_main"));
  if (!status.ok()) {
    std::fprintf(stderr, "ranker-train: %s\n", status.ToString().c_str());
    return status.code() == absl::StatusCode::kInvalidArgument ? 2 : 1;
  }
  return 0;
}
