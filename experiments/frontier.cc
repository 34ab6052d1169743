#include "experiments/frontier.h"

#include <algorithm>
#include <chrono>
#include <utility>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "common/log.h"
#include "common/status_macros.h"
#include "experiments/sweep_run.h"
#include "model/pq_rotation.h"
#include "model/pq_rows.h"
#include "model/row_budget.h"
#include "model/row_codec.h"

namespace ranker {
namespace {

// Both item tables' resident bytes (no id maps).
double TableBytes(const Model& model) {
  double bytes = 0;
  for (const Feature& feature : model.features()) {
    bytes += static_cast<double>(feature.table.resident_bytes());
  }
  return bytes;
}

FrontierPoint MakePoint(std::string label, std::string family, bool trained) {
  FrontierPoint point;
  point.label = std::move(label);
  point.family = std::move(family);
  point.trained = trained;
  return point;
}

std::string FamilyOf(const FrontierCodec& codec) {
  if (IsHeadTail(codec.input) || IsHeadTail(codec.output)) return "pq head/tail";
  if (codec.input.dtype == snapshot::UINT8 || codec.output.dtype == snapshot::UINT8) return "pq";
  if (codec.input.dtype == snapshot::INT8 || codec.output.dtype == snapshot::INT8) return "int8";
  return "full";
}

struct EncodedModel {
  std::unique_ptr<const Model> model;
  double table_bytes = 0;
};

// The reference's snapshot with its tables encoded by `codec`, as a model.
absl::StatusOr<EncodedModel> Encode(const Snapshot& reference, const FrontierCodec& codec,
                                    uint64_t seed) {
  Snapshot copy{reference.manifest, {}};
  ASSIGN_OR_RETURN(copy.tensors, CopyTensors(reference.tensors));
  EncodedModel encoded;
  if (codec.rotated) {
    const uint32_t subvectors = std::max(codec.input.pq_subvectors, codec.output.pq_subvectors);
    ASSIGN_OR_RETURN(std::vector<float> rotation, BalancedPqRotation(copy, subvectors));
    RETURN_IF_ERROR(RotateItemTables(rotation, &copy));
  }
  for (TableSpec& spec : *copy.manifest.mutable_tables()) {
    const RowStorage& storage = spec.feature() == "item" ? codec.output : codec.input;
    RETURN_IF_ERROR(EncodeTableRows(storage, seed, &spec, &copy.tensors));
  }
  ASSIGN_OR_RETURN(encoded.model, Model::Create(copy.manifest, std::move(copy.tensors)));
  encoded.table_bytes = TableBytes(*encoded.model);
  return encoded;
}

void AddPointSeed(const Evaluation& test, double seconds, double bytes, FrontierPoint* point,
                  int seed) {
  AddSeed(test, seconds, &point->metrics);
  point->table_bytes += (bytes - point->table_bytes) / seed;  // running mean over seeds
}

absl::StatusOr<FrontierDataset> FrontierOf(const FrontierOptions& options, const std::string& name,
                                           const std::string& path) {
  const auto start = std::chrono::steady_clock::now();
  ASSIGN_OR_RETURN(Dataset dataset, ReadInteractions(path, LogFormat::kAuto, name));
  FrontierDataset out;
  out.name = dataset.name;
  out.users = dataset.users();
  out.items = dataset.items();
  out.interactions = dataset.interactions.size();
  out.d = options.sweep.base.d;
  SweepOptions sweep = options.sweep;
  if (auto it = options.seeds_for.find(name); it != options.seeds_for.end()) {
    sweep.seeds = it->second;
  }
  out.seeds = sweep.seeds;
  const std::vector<Split> splits = SeedSplits(dataset, sweep.seeds);
  const double full_bytes = 2.0 * static_cast<double>(dataset.items()) * out.d * sizeof(float);

  // The reference, and every codec applied to it after training.
  FrontierPoint reference = MakePoint("full", "full", true);
  std::vector<FrontierPoint> encoded;
  for (const FrontierCodec& codec : options.codecs) {
    encoded.push_back(MakePoint(FrontierCodecName(codec), FamilyOf(codec), false));
  }
  const SweepMethod full = HistoryMethod(snapshot::FULL, 1);
  RETURN_IF_ERROR(TrainSeeds(
      sweep, dataset, splits, full, 1,
      [&](int s, const TrainResult& best, float weight_decay) -> absl::Status {
        const Split& split = splits[s - 1];
        const auto evaluate = [&](const Model& model) {
          return EvaluateModel(model, dataset, split, HeldOut::kTest, sweep.base.threads,
                               sweep.base.max_history);
        };
        reference.weight_decay = weight_decay;
        AddPointSeed(evaluate(*best.model), best.train_seconds, TableBytes(*best.model), &reference,
                     s);
        for (size_t c = 0; c < options.codecs.size(); ++c) {
          const auto encode_start = std::chrono::steady_clock::now();
          ASSIGN_OR_RETURN(EncodedModel encoded_model,
                           Encode(best.snapshot, options.codecs[c], static_cast<uint64_t>(s)));
          const Model& model = *encoded_model.model;
          const double seconds =
              std::chrono::duration<double>(std::chrono::steady_clock::now() - encode_start)
                  .count();
          const Evaluation test = evaluate(model);
          encoded[c].weight_decay = weight_decay;
          AddPointSeed(test, seconds, encoded_model.table_bytes, &encoded[c], s);
          LogInfo(
              absl::StrFormat("  [%s] %-16s seed %d: test nDCG@10 %.4f (%.1fx, encoded in "
                              "%.1f s)",
                              dataset.name, encoded[c].label, s, test.ndcg.mean,
                              full_bytes / encoded_model.table_bytes, seconds));
        }
        return absl::OkStatus();
      }));
  out.points.push_back(std::move(reference));
  for (FrontierPoint& point : encoded) out.points.push_back(std::move(point));

  // Codecs fine-tuned into the model, at the reference's weight decay.
  for (const FrontierCodec& codec : options.finetuned) {
    FrontierPoint point = MakePoint(absl::StrCat(FrontierCodecName(codec), " fine-tuned"),
                                    absl::StrCat(FamilyOf(codec), " fine-tuned"), true);
    point.finetuned = true;
    SweepOptions tuned = sweep;
    tuned.history_weight_decay_grid = {out.points.front().weight_decay};
    tuned.base.rows = codec.input;
    tuned.base.output_rows = codec.output;
    tuned.base.pq_finetune_epochs = options.finetune_epochs;
    RETURN_IF_ERROR(TrainSeeds(
        tuned, dataset, splits, full, 1,
        [&](int s, const TrainResult& best, float wd) -> absl::Status {
          point.weight_decay = wd;
          const Evaluation test = EvaluateModel(*best.model, dataset, splits[s - 1], HeldOut::kTest,
                                                sweep.base.threads, sweep.base.max_history);
          AddPointSeed(test, best.train_seconds, TableBytes(*best.model), &point, s);
          LogInfo(absl::StrFormat(
              "  [%s] %-16s seed %d: test nDCG@10 %.4f (fine-tuning "
              "epoch %d kept)",
              dataset.name, point.label, s, test.ndcg.mean, best.pq_finetune_best_epoch));
          return absl::OkStatus();
        }));
    out.points.push_back(std::move(point));
  }

  // Trained compressed models.
  for (const SweepMethod& method : options.methods) {
    FrontierPoint point = MakePoint(ConfigLabel(method, method.ratio),
                                    method.int8 ? absl::StrCat(TableKindName(method.kind), "+int8")
                                                : TableKindName(method.kind),
                                    true);
    RETURN_IF_ERROR(TrainSeeds(
        sweep, dataset, splits, method, method.ratio,
        [&](int s, const TrainResult& best, float wd) -> absl::Status {
          point.weight_decay = wd;
          const Evaluation test = EvaluateModel(*best.model, dataset, splits[s - 1], HeldOut::kTest,
                                                sweep.base.threads, sweep.base.max_history);
          AddPointSeed(test, best.train_seconds, TableBytes(*best.model), &point, s);
          return absl::OkStatus();
        }));
    out.points.push_back(std::move(point));
  }
  for (FrontierPoint& point : out.points) {
    FinishSeeds(&point.metrics);
    point.whole_ratio = point.table_bytes > 0 ? full_bytes / point.table_bytes : 0;
    LogInfo(absl::StrFormat("[%s] %-24s %7.2fx  test nDCG@10 %.4f +- %.4f", dataset.name,
                            point.label, point.whole_ratio, point.metrics.ndcg.mean,
                            point.metrics.ndcg.stderr_));
  }
  out.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return out;
}

}  // namespace

absl::StatusOr<FrontierCodec> ParseFrontierCodec(absl::string_view name) {
  FrontierCodec codec;
  codec.rotated = absl::ConsumeSuffix(&name, "+opq");
  std::vector<absl::string_view> parts = absl::StrSplit(name, '/');
  if (parts.size() > 2) {
    return absl::InvalidArgumentError(
        absl::StrCat("codec '", name, "': one storage, or INPUT/OUTPUT"));
  }
  ASSIGN_OR_RETURN(codec.input, ParseRowStorage(parts[0]));
  codec.output = codec.input;
  if (parts.size() == 2) {
    ASSIGN_OR_RETURN(codec.output, ParseRowStorage(parts[1]));
  }
  if (codec.rotated && codec.input.dtype != snapshot::UINT8 &&
      codec.output.dtype != snapshot::UINT8) {
    return absl::InvalidArgumentError(
        absl::StrCat("codec '", name, "+opq': a rotation only helps pq rows"));
  }
  return codec;
}

absl::StatusOr<std::vector<FrontierCodec>> ParseFrontierCodecs(absl::string_view names) {
  std::vector<FrontierCodec> codecs;
  for (absl::string_view name : absl::StrSplit(names, ',', absl::SkipEmpty())) {
    ASSIGN_OR_RETURN(FrontierCodec codec, ParseFrontierCodec(name));
    codecs.push_back(codec);
  }
  return codecs;
}

std::string FrontierCodecName(const FrontierCodec& codec) {
  const std::string input = RowStorageName(codec.input);
  const std::string output = RowStorageName(codec.output);
  return absl::StrCat(input == output ? input : absl::StrCat(input, "/", output),
                      codec.rotated ? "+opq" : "");
}

std::vector<FrontierCodec> DefaultFrontierCodecs() {
  std::vector<FrontierCodec> codecs;
  for (const char* name :
       {"int8", "pq32x8", "pq16x8", "pq8x8", "pq32x4", "pq16x4", "pq8x4", "pq4x4", "pq8x8/pq16x8",
        "pq16x4/pq32x4", "pq8x4/pq16x4", "pq4x4/pq8x4"}) {
    codecs.push_back(*ParseFrontierCodec(name));
  }
  // Frequency-aware budgets: what the budget rule chooses from (model/row_budget.h).
  for (const RowStorage& storage : HeadTailStorages()) {
    FrontierCodec codec;
    codec.input = codec.output = storage;
    codecs.push_back(codec);
  }
  return codecs;
}

std::vector<SweepMethod> DefaultFrontierMethods() {
  SweepMethod int8 = HistoryMethod(snapshot::MEMCOM, 4, snapshot::MEMCOM, 4);
  int8.int8 = true;
  return {HistoryMethod(snapshot::MEMCOM, 16, snapshot::MEMCOM, 16),
          HistoryMethod(snapshot::MEMCOM, 32, snapshot::MEMCOM, 32.0 / 3), int8,
          HistoryMethod(snapshot::HASH, 16, snapshot::HASH, 16)};
}

absl::StatusOr<std::vector<FrontierDataset>> RunFrontier(const FrontierOptions& options) {
  std::vector<FrontierDataset> results;
  for (const auto& [name, path] : options.sweep.datasets) {
    LogInfo("== ", name, " (", path, ")");
    ASSIGN_OR_RETURN(FrontierDataset result, FrontierOf(options, name, path));
    results.push_back(std::move(result));
  }
  return results;
}

}  // namespace ranker
