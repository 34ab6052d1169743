// ranker-train: learn MEmCom (or baseline) tables and the RankNet scorer from an interaction
// log, evaluate them on held-out interactions, and publish the snapshot. The training flags
// are in train_flags.cc, shared with ranker-experiments.
#include <cstdio>
#include <optional>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "common/command_line.h"
#include "common/log.h"
#include "common/status_macros.h"
#include "events/history_publisher.h"
#include "interactions/user_histories.h"
#include "model/row_budget.h"
#include "model/table_sizing.h"
#include "model_store/history_store.h"
#include "model_store/snapshot_store.h"
#include "trainer/train_flags.h"
#include "trainer/trainer.h"

ABSL_FLAG(std::string, data, "",
          "train: interaction log (u.data, ratings.csv or user,item[,...] CSV).");
ABSL_FLAG(std::string, format, "auto",
          "train: auto, movielens-tab, csv or spaces (a .txt file or a split directory).");
ABSL_FLAG(std::string, name, "", "train: dataset name for reports (default: the path).");
ABSL_FLAG(std::string, publish, "", "train: publish the trained model to this store.");
ABSL_FLAG(std::string, nats, "",
          "train --publish: a fleet's NATS server (nats://HOST:4222): the training log's "
          "histories go to its event stream, which every replica applies, instead of the "
          "store's history family.");
ABSL_FLAG(bool, publish_histories, true,
          "train --publish, history models: first append every user's items from --data (the "
          "whole log, in time order; items already stored keep their place) to the store's "
          "histories, so Rank(user_id) works without history ids.");
ABSL_FLAG(double, target_ratio, 0,
          "train: a memory budget: train the history model the frontier recommends for both "
          "item tables at least this many times smaller than full float32 ones (full tables "
          "with the row storages of model/row_budget.h, chosen from the catalogue size and "
          "--d); overrides --user_mode, --kind, --output_kind, --tied, --rows and "
          "--output_rows. 0: off.");
ABSL_FLAG(uint32_t, history_cap, 200,
          "train --publish: most items kept per user in the stored histories (the newest "
          "distinct ones); use the same cap as `ranker-store history import`.");

namespace ranker {
namespace {

constexpr char kUsage[] =
    R"(ranker-train: train and evaluate a MEmCom ranking model, and publish it.

Usage:
  ranker-train train --data PATH [--kind memcom --ratio 16 --d 64 --scorer mlp+dot]
                     [--user_mode history|id --output_kind full --output_ratio 1 --tied]
                     [--rows float32|int8|pq16x8] [--max_history 200] [--seed 1] [--publish STORE]
  ranker-train train --data PATH --target_ratio 16 [--publish STORE]   # a memory budget

Protocol: per user in time order, the last 20% of interactions are test, the 10% before them
validation, the rest training (a log without timestamps: a seeded shuffle per user). Early
stopping uses validation only. nDCG@10 and Recall@10 rank the full catalogue minus the user's
known items, every held-out item relevant; means with standard errors over users.

Comparing methods over several seeds and data sets is ranker-experiments' job (sweep,
retrieval).)";

absl::Status TrainCommand() {
  if (absl::GetFlag(FLAGS_data).empty()) return absl::InvalidArgumentError("--data is required");
  ASSIGN_OR_RETURN(LogFormat format, ParseLogFormat(absl::GetFlag(FLAGS_format)));
  ASSIGN_OR_RETURN(Dataset dataset,
                   ReadInteractions(absl::GetFlag(FLAGS_data), format, absl::GetFlag(FLAGS_name)));
  ASSIGN_OR_RETURN(TrainOptions options, TrainOptionsFromFlags());
  SplitOptions split_options;
  split_options.seed = options.seed;
  const Split split = SplitPerUser(dataset, split_options);
  LogInfo(dataset.name, ": ", dataset.users(), " users, ", dataset.items(), " items, ",
          dataset.interactions.size(), " interactions (", split.train_interactions,
          " for training)");
  if (const double target = absl::GetFlag(FLAGS_target_ratio); target != 0) {
    ASSIGN_OR_RETURN(RowBudget budget, RecommendRowBudget(dataset.items(), options.d, target));
    options.user_mode = snapshot::USER_MODE_HISTORY;
    options.kind = snapshot::FULL;
    options.output_kind = snapshot::FULL;
    options.tied = false;
    options.rows = budget.input;
    options.output_rows = budget.output;
    std::printf("target ratio %g: full history tables, %s\n", target,
                DescribeRowBudget(budget).c_str());
    std::fflush(stdout);  // before the training log on stderr
  }
  LogInfo("training ", DescribeOptions(options));
  ASSIGN_OR_RETURN(
      TrainResult result, Train(dataset, split, options, [](const EpochReport& r) {
        LogInfo(absl::StrFormat("epoch %2d %-3s loss %.4f  validation nDCG@10 %.4f%s  %.1f s",
                                r.epoch, r.mlp_trained ? "mlp" : "", r.loss, r.validation_ndcg,
                                r.best ? " *" : "", r.seconds));
      }));
  if (result.float_validation_ndcg.has_value()) {
    LogInfo(absl::StrFormat(
        "pq rows: validation nDCG@10 %.4f as float, %.4f encoded, %.4f kept (fine-tuning epoch "
        "%d; 0 = none)",
        *result.float_validation_ndcg, result.encoded_validation_ndcg.value_or(0),
        result.validation.ndcg.mean, result.pq_finetune_best_epoch));
  }
  const Evaluation test = EvaluateModel(*result.model, dataset, split, HeldOut::kTest,
                                        options.threads, options.max_history);
  const Evaluation popularity = EvaluatePopularity(split, HeldOut::kTest);
  std::printf("%s %s ratio %.2fx (%lu table bytes), best epoch %d, %.1f s\n", dataset.name.c_str(),
              TableKindName(options.kind).c_str(), result.compression_ratio, result.table_bytes,
              result.best_epoch, result.train_seconds);
  std::printf("  test nDCG@10   %.4f +- %.4f   Recall@10 %.4f +- %.4f  (%zu users)\n",
              test.ndcg.mean, test.ndcg.stderr_, test.recall.mean, test.recall.stderr_,
              test.ndcg.n);
  std::printf("  whole-model ratio %.2fx  (item tables %s, %s)  test nDCG@10 %.4f\n",
              result.compression_ratio, RowStorageName(options.rows).c_str(),
              RowStorageName(options.output_rows.value_or(options.rows)).c_str(), test.ndcg.mean);
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
        absl::GetFlag(FLAGS_publish_histories) && !absl::GetFlag(FLAGS_nats).empty()) {
      // A fleet: the histories go where every replica reads them, the event stream.
      JetStreamOptions stream;
      stream.url = absl::GetFlag(FLAGS_nats);
      stream.max_msgs_per_subject = absl::GetFlag(FLAGS_history_cap);
      ASSIGN_OR_RETURN(auto connection, ConnectToStream(stream));
      ASSIGN_OR_RETURN(
          PublishedHistories published,
          PublishHistories(connection.get(), UserHistoriesOf(dataset),
                           absl::StrCat("train:", absl::GetFlag(FLAGS_data)),
                           absl::GetFlag(FLAGS_history_cap), absl::ToUnixMillis(absl::Now())));
      std::printf(
          "published the histories of %lu users (%lu interactions, %lu already there) to the "
          "event stream at %s\n",
          published.users, published.interactions, published.duplicates, stream.url.c_str());
    } else if (options.user_mode == snapshot::USER_MODE_HISTORY &&
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

absl::Status Run(const std::vector<char*>& args) {
  if (args.size() != 2) return absl::InvalidArgumentError("give one command: train");
  const std::string command = args[1];
  if (command == "train") return TrainCommand();
  if (command == "sweep" || command == "retrieval") {
    return absl::InvalidArgumentError(
        absl::StrCat("'", command, "' moved to ranker-experiments (build/experiments/)"));
  }
  return absl::InvalidArgumentError(absl::StrCat("unknown command '", command, "'"));
}

}  // namespace
}  // namespace ranker

int main(int argc, char** argv) {
  absl::Status status = ranker::Run(ranker::ParseToolCommandLine(
      argc, argv, ranker::kUsage, {"ranker_train_main", "train_flags"}));
  if (!status.ok()) {
    std::fprintf(stderr, "ranker-train: %s\n", status.ToString().c_str());
    return status.code() == absl::StatusCode::kInvalidArgument ? 2 : 1;
  }
  return 0;
}
