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
  if (codec.head_fraction > 0) return "pq head/tail (emulated)";
  if (codec.input.dtype == snapshot::UINT8 || codec.output.dtype == snapshot::UINT8) return "pq";
  if (codec.input.dtype == snapshot::INT8 || codec.output.dtype == snapshot::INT8) return "int8";
  return "full";
}

struct EncodedModel {
  std::unique_ptr<const Model> model;
  double table_bytes = 0;
};

// Bytes of `count` rows of d floats encoded with `storage` (pq), with its codebook.
double PqBytes(const RowStorage& storage, uint64_t count, uint32_t d) {
  return static_cast<double>(count) * storage.pq_subvectors * storage.pq_bits / 8 +
         static_cast<double>(storage.pq_subvectors) * (uint64_t{1} << storage.pq_bits) *
             (d / storage.pq_subvectors) * sizeof(float);
}

// The emulated head/tail codec (FrontierCodec::head_fraction): each full table's rows replaced
// by their decoded codes, the head's and the tail's from codebooks of their own.
absl::StatusOr<double> EncodeHeadTail(const FrontierCodec& codec, uint64_t seed, Snapshot* copy) {
  const auto popularity = copy->tensors.at("popularity").bytes.as<float>();
  std::vector<uint64_t> order(popularity.size());
  for (uint64_t i = 0; i < order.size(); ++i) order[i] = i;
  std::stable_sort(order.begin(), order.end(),
                   [&](uint64_t a, uint64_t b) { return popularity[a] > popularity[b]; });
  const uint64_t head = static_cast<uint64_t>(codec.head_fraction * order.size() + 0.5);
  double bytes = 0;
  for (const TableSpec& spec : copy->manifest.tables()) {
    if (spec.kind() != snapshot::FULL || spec.n() != order.size()) {
      return absl::InvalidArgumentError("head/tail codecs need full tables over the catalogue");
    }
    const uint32_t d = spec.d();
    auto rows = copy->tensors.at(TableTensorName(spec.feature(), "embeddings")).bytes.as<float>();
    for (int group = 0; group < 2; ++group) {
      const RowStorage& storage = group == 0 ? codec.input : codec.output;
      const uint64_t first = group == 0 ? 0 : head, last = group == 0 ? head : order.size();
      if (first == last) continue;
      std::vector<float> members((last - first) * d);
      for (uint64_t i = first; i < last; ++i) {
        std::copy_n(&rows[order[i] * d], d, &members[(i - first) * d]);
      }
      PqOptions options;
      options.subvectors = storage.pq_subvectors;
      options.bits = storage.pq_bits;
      options.seed = seed;
      const PqEncoding encoding = EncodePq(members.data(), last - first, d, options);
      const uint32_t sub = d / options.subvectors,
                     row_bytes = options.subvectors * options.bits / 8;
      for (uint64_t i = first; i < last; ++i) {
        const uint8_t* codes = &encoding.codes[(i - first) * row_bytes];
        for (uint32_t j = 0; j < options.subvectors; ++j) {
          const uint8_t byte = codes[options.bits == 8 ? j : j / 2];
          const uint32_t code = options.bits == 8 ? byte : (j % 2 == 0 ? byte & 0xF : byte >> 4);
          std::copy_n(&encoding.codebook[((j << options.bits) + code) * sub], sub,
                      &rows[order[i] * d + j * sub]);
        }
      }
      bytes += PqBytes(storage, last - first, d);
    }
    bytes += static_cast<double>(order.size()) / 8;  // which group each item is in
  }
  return bytes;
}

// The reference's snapshot with its tables encoded by `codec`, as a model.
absl::StatusOr<EncodedModel> Encode(const Snapshot& reference, const FrontierCodec& codec,
                                    uint64_t seed) {
  Snapshot copy{reference.manifest, {}};
  ASSIGN_OR_RETURN(copy.tensors, CopyTensors(reference.tensors));
  EncodedModel encoded;
  if (codec.head_fraction > 0) {
    ASSIGN_OR_RETURN(encoded.table_bytes, EncodeHeadTail(codec, seed, &copy));
    ASSIGN_OR_RETURN(encoded.model, Model::Create(copy.manifest, std::move(copy.tensors)));
    return encoded;
  }
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
  if (absl::ConsumePrefix(&name, "head")) {  // headP:HEAD+TAIL
    std::vector<absl::string_view> parts = absl::StrSplit(name, absl::MaxSplits(':', 1));
    int percent = 0;
    std::vector<absl::string_view> groups =
        parts.size() == 2 ? absl::StrSplit(parts[1], '+') : std::vector<absl::string_view>();
    if (groups.size() != 2 || !absl::SimpleAtoi(parts[0], &percent) || percent < 1 ||
        percent > 99) {
      return absl::InvalidArgumentError(absl::StrCat(
          "codec 'head", name, "': headP:HEAD+TAIL with P in 1..99, e.g. head20:pq32x8+pq8x8"));
    }
    ASSIGN_OR_RETURN(codec.input, ParseRowStorage(groups[0]));
    ASSIGN_OR_RETURN(codec.output, ParseRowStorage(groups[1]));
    if (codec.input.dtype != snapshot::UINT8 || codec.output.dtype != snapshot::UINT8) {
      return absl::InvalidArgumentError(
          absl::StrCat("codec 'head", name, "': both groups must be pq"));
    }
    codec.head_fraction = percent / 100.0;
    return codec;
  }
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
  if (codec.head_fraction > 0) {
    return absl::StrCat("head", static_cast<int>(codec.head_fraction * 100 + 0.5), ":",
                        RowStorageName(codec.input), "+", RowStorageName(codec.output));
  }
  const std::string input = RowStorageName(codec.input);
  const std::string output = RowStorageName(codec.output);
  return absl::StrCat(input == output ? input : absl::StrCat(input, "/", output),
                      codec.rotated ? "+opq" : "");
}

std::vector<FrontierCodec> DefaultFrontierCodecs() {
  std::vector<FrontierCodec> codecs;
  for (const char* name :
       {"int8", "pq32x8", "pq16x8", "pq8x8", "pq32x4", "pq16x4", "pq8x4", "pq4x4", "pq8x8/pq16x8",
        "pq16x4/pq32x4", "pq8x4/pq16x4", "pq4x4/pq8x4",
        // Frequency-aware budgets (emulated): a fine code for the most popular items, a coarse
        // one for the rest; 8-bit heads for large catalogues, 4-bit ones for small.
        "head20:pq32x8+pq8x8", "head30:pq32x8+pq4x8", "head20:pq32x8+pq4x8", "head15:pq32x8+pq4x4",
        "head10:pq32x8+pq4x4", "head5:pq32x8+pq2x4", "head30:pq32x4+pq16x4", "head20:pq32x4+pq8x4",
        "head10:pq32x4+pq4x4", "head5:pq32x4+pq2x4"}) {
    codecs.push_back(*ParseFrontierCodec(name));
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
