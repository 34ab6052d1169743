#include "experiments/sweep_run.h"

#include <cstdio>
#include <optional>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "common/files.h"
#include "common/log.h"
#include "common/status_macros.h"

namespace ranker {
namespace {

constexpr char kCsvHeader[] =
    "dataset,method,target_ratio,ratio,table_bytes,weight_decay,seed,validation_ndcg,test_ndcg,"
    "test_ndcg_se,test_recall,test_recall_se,train_seconds,input_ratio,output_ratio,"
    "ratio_vs_full_id_model\n";

// results.csv, rewritten whole (atomically) after every row, so a killed sweep keeps every row
// it finished and a reader never sees half a row. The file is small: one row per run.
struct CsvFile {
  std::string path;
  std::string text;

  absl::Status Append(absl::string_view row) {
    absl::StrAppend(&text, row);
    return WriteFileAtomically(path, text);
  }
};

// `config` trained on every seed's split and evaluated on its test split.
absl::StatusOr<ConfigResult> TrainConfig(const SweepOptions& options, const Dataset& dataset,
                                         const std::vector<Split>& splits, ConfigResult config,
                                         CsvFile* csv) {
  const std::string label = ConfigLabel(config.method, config.target_ratio);
  RETURN_IF_ERROR(TrainSeeds(
      options, dataset, splits, config.method, config.target_ratio,
      [&](int s, const TrainResult& best, float weight_decay) -> absl::Status {
        const Evaluation test = EvaluateModel(*best.model, dataset, splits[s - 1], HeldOut::kTest,
                                              options.base.threads, options.base.max_history);
        config.weight_decay = weight_decay;
        config.actual_ratio = best.compression_ratio;
        config.table_bytes = best.table_bytes;
        config.input_ratio = best.input_ratio;
        config.output_ratio = best.output_ratio;
        config.ratio_vs_full_id_model = best.ratio_vs_full_id_model;
        AddSeed(test, best.train_seconds, &config.metrics);
        return csv->Append(absl::StrFormat(
            "%s,%s,%g,%.3f,%d,%g,%d,%.6f,%.6f,%.6f,%.6f,%.6f,%.2f,%.3f,%.3f,%.3f\n", dataset.name,
            SweepMethodName(config.method), config.target_ratio, best.compression_ratio,
            best.table_bytes, weight_decay, s, best.validation.ndcg.mean, test.ndcg.mean,
            test.ndcg.stderr_, test.recall.mean, test.recall.stderr_, best.train_seconds,
            best.input_ratio, best.output_ratio, best.ratio_vs_full_id_model));
      }));
  FinishSeeds(&config.metrics);
  LogInfo(absl::StrFormat("[%s] %-16s test nDCG@10 %.4f +- %.4f (ratio %.2fx)", dataset.name, label,
                          config.metrics.ndcg.mean, config.metrics.ndcg.stderr_,
                          config.actual_ratio));
  return config;
}

absl::StatusOr<DatasetResult> SweepDataset(const SweepOptions& options, const std::string& name,
                                           const std::string& path, CsvFile* csv) {
  ASSIGN_OR_RETURN(Dataset dataset, ReadInteractions(path, LogFormat::kAuto, name));
  DatasetResult out;
  out.name = dataset.name;  // the path when `name` is empty, as in the CSV
  out.users = dataset.users();
  out.items = dataset.items();
  out.interactions = dataset.interactions.size();
  const std::vector<Split> splits = SeedSplits(dataset, options.seeds);
  ConfigResult popularity;
  popularity.method = PopularityMethod();
  popularity.actual_ratio = 0;
  for (const Split& split : splits) {
    AddSeed(EvaluatePopularity(split, HeldOut::kTest), 0, &popularity.metrics);
  }
  FinishSeeds(&popularity.metrics);
  out.rows.push_back(std::move(popularity));
  for (const SweepMethod& method : options.methods) {
    if (method.popularity) continue;
    const std::vector<double> ratios = method.compressed() ? options.ratios
                                       : method.history    ? std::vector<double>{method.ratio}
                                                           : std::vector<double>{1};
    for (double ratio : ratios) {
      ConfigResult config;
      config.method = method;
      config.target_ratio = ratio;
      ASSIGN_OR_RETURN(config, TrainConfig(options, dataset, splits, std::move(config), csv));
      out.rows.push_back(std::move(config));
    }
  }
  return out;
}

}  // namespace

const ConfigResult* DatasetResult::Find(const SweepMethod& method, double ratio) const {
  for (const ConfigResult& row : rows) {
    if (row.method == method && (!method.compressed() || row.target_ratio == ratio)) return &row;
  }
  return nullptr;
}

std::string ConfigLabel(const SweepMethod& method, double target_ratio) {
  const auto table = [](TableKind kind, double ratio) {
    return kind == snapshot::FULL ? TableKindName(kind)
                                  : absl::StrCat(TableKindName(kind), " ", ratio, "x");
  };
  const char* int8 = method.int8 ? ", int8 rows" : "";
  if (method.tied) return absl::StrCat("tied ", table(method.kind, method.ratio), int8);
  if (method.history) {
    return absl::StrCat(table(method.kind, method.ratio), " / ",
                        table(method.output_kind, method.output_ratio), int8);
  }
  if (!method.compressed()) return SweepMethodName(method);
  return absl::StrCat(SweepMethodName(method), " ", target_ratio, "x");
}

std::vector<Split> SeedSplits(const Dataset& dataset, int seeds) {
  std::vector<Split> splits;
  for (int s = 1; s <= seeds; ++s) {
    SplitOptions split_options;
    split_options.seed = static_cast<uint64_t>(s);
    splits.push_back(SplitPerUser(dataset, split_options));
  }
  return splits;
}

TrainOptions MethodTrainOptions(const SweepOptions& options, const SweepMethod& method,
                                double ratio) {
  TrainOptions train = options.base;
  train.clamp_ratio = true;
  train.ratio = ratio;
  train.kind = method.kind;
  train.scorer = method.dot_only ? ScorerMode::kDot : options.base.scorer;
  if (method.history) {
    train.user_mode = snapshot::USER_MODE_HISTORY;
    train.ratio = method.ratio;
    train.output_kind = method.output_kind;
    train.output_ratio = method.output_ratio;
    train.tied = method.tied;
    if (method.int8) train.rows.dtype = snapshot::INT8;
  } else {
    train.user_mode = snapshot::USER_MODE_ID;
  }
  return train;
}

absl::Status TrainSeeds(const SweepOptions& options, const Dataset& dataset,
                        const std::vector<Split>& splits, const SweepMethod& method, double ratio,
                        const SeedTrained& on_seed) {
  const std::string label = ConfigLabel(method, ratio);
  TrainOptions train = MethodTrainOptions(options, method, ratio);
  const std::vector<float> grid = WeightDecayGrid(options, method);
  float chosen = grid.front();
  for (int s = 1; s <= options.seeds && s <= static_cast<int>(splits.size()); ++s) {
    train.seed = static_cast<uint64_t>(s);
    std::optional<TrainResult> best;
    for (float wd : (s == 1 ? grid : std::vector<float>{chosen})) {
      train.weight_decay = wd;
      ASSIGN_OR_RETURN(TrainResult result, Train(dataset, splits[s - 1], train));
      LogInfo(
          absl::StrFormat("  [%s] %-16s seed %d wd %.0e: validation nDCG@10 %.4f (epoch %d, "
                          "%.1f s)",
                          dataset.name, label, s, wd, result.validation.ndcg.mean,
                          result.best_epoch, result.train_seconds));
      if (!best || result.validation.ndcg.mean > best->validation.ndcg.mean) {
        chosen = wd;
        best = std::move(result);
      }
    }
    RETURN_IF_ERROR(on_seed(s, *best, chosen));
  }
  return absl::OkStatus();
}

std::vector<float> WeightDecayGrid(const SweepOptions& options, const SweepMethod& method) {
  const std::vector<float>& grid = method.dot_only  ? options.dot_weight_decay_grid
                                   : method.history ? options.history_weight_decay_grid
                                                    : options.weight_decay_grid;
  return grid.empty() ? std::vector<float>{options.base.weight_decay} : grid;
}

absl::StatusOr<std::vector<DatasetResult>> RunGrid(const SweepOptions& options,
                                                   const std::string& csv_path) {
  CsvFile csv{csv_path, {}};
  RETURN_IF_ERROR(csv.Append(kCsvHeader));
  std::vector<DatasetResult> results;
  for (const auto& [name, path] : options.datasets) {
    LogInfo("== ", name, " (", path, ")");
    ASSIGN_OR_RETURN(DatasetResult result, SweepDataset(options, name, path, &csv));
    results.push_back(std::move(result));
  }
  return results;
}

}  // namespace ranker
