#include "trainer/trainer.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstring>
#include <optional>
#include <random>
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/status_macros.h"
#include "model/pq_rows.h"
#include "model/row_codec.h"
#include "model/table_sizing.h"
#include "trainer/train_step.h"
#include "trainer/trainable_table.h"
#include "trainer/user_encoder.h"

namespace ranker {
namespace {

// The output table's storage is output_rows when set (not for tied tables: there is one table).
const RowStorage& RowStorageFor(const TrainOptions& options, const TableSpec& spec) {
  return spec.feature() == "item" && options.output_rows.has_value() && !options.tied
             ? *options.output_rows
             : options.rows;
}

bool AnyPqRows(const TrainOptions& options) {
  return options.rows.dtype == snapshot::UINT8 ||
         (options.output_rows.has_value() && !options.tied &&
          options.output_rows->dtype == snapshot::UINT8);
}

// Row storages that cannot be served or fine-tuned are refused before any training: pq shapes
// that do not fit d, and fine-tuning next to an int8 table (whose rows it could not load back).
absl::Status CheckRowStorages(const TrainOptions& options) {
  std::vector<RowStorage> storages = {options.rows};
  if (options.output_rows.has_value() && !options.tied) storages.push_back(*options.output_rows);
  for (const RowStorage& storage : storages) {
    TableSpec spec;
    spec.set_feature("item");
    spec.set_kind(snapshot::FULL);
    spec.set_n(1);
    spec.set_m(1);
    spec.set_d(options.d);
    SetRowStorage(storage, &spec);
    if (absl::Status status = CheckTableSpec(spec); !status.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat("row storage ", RowStorageName(storage), ": ", status.message()));
    }
    if (options.pq_finetune_epochs > 0 && storage.dtype == snapshot::INT8) {
      return absl::InvalidArgumentError(
          "pq fine-tuning needs every table's rows pq or float32, not int8");
    }
    if (IsHeadTail(storage)) {
      // Which items are the head comes from the history model's popularity prior, and only a
      // full table has a row per item to give a longer code.
      const bool full =
          options.kind == snapshot::FULL && (options.tied || options.output_kind == snapshot::FULL);
      if (options.user_mode != snapshot::USER_MODE_HISTORY || !full) {
        return absl::InvalidArgumentError(absl::StrCat("row storage ", RowStorageName(storage),
                                                       " needs a history model of full tables"));
      }
      if (options.pq_finetune_epochs > 0) {
        return absl::InvalidArgumentError(absl::StrCat(
            "pq fine-tuning does not refit head/tail rows (", RowStorageName(storage), ")"));
      }
    }
  }
  return absl::OkStatus();
}

// Sets the trainable tables' parameters to the snapshot's tables (pq rows decoded).
absl::Status LoadTable(const Snapshot& snapshot, const TableSpec& spec, TrainableTable* table) {
  const TableLayout& layout = *FindTableLayout(spec.kind());
  size_t param = 0;
  for (const TensorLayout& tensor : layout.tensors) {
    if (tensor.role != TensorRole::kParameter) continue;
    ParamTensor& p = table->params()[param++];
    if (HasPqRows(spec) && IsRowTensor(tensor)) {
      ASSIGN_OR_RETURN(std::vector<float> rows, DecodePqTensor(spec, snapshot.tensors, tensor));
      if (rows.size() != p.values.size()) return absl::InternalError("decoded rows mismatch");
      p.values = std::move(rows);
      continue;
    }
    const Tensor& values = snapshot.tensors.at(TensorNameOf(tensor, spec));
    if (values.dtype != snapshot::FLOAT32 || values.bytes.size() != p.values.size() * 4) {
      return absl::InternalError(absl::StrCat("cannot load ", TensorNameOf(tensor, spec)));
    }
    std::memcpy(p.values.data(), values.bytes.data(), values.bytes.size());
  }
  return absl::OkStatus();
}

absl::Status LoadTables(const Snapshot& snapshot, UserEncoder* users, TrainableTable* items) {
  for (const TableSpec& spec : snapshot.manifest.tables()) {
    if (spec.feature() == "item") {
      RETURN_IF_ERROR(LoadTable(snapshot, spec, items));
    } else if (!users->tied()) {
      RETURN_IF_ERROR(LoadTable(snapshot, spec, &users->table()));
    }
  }
  return absl::OkStatus();
}

// Encodes the pq tables of the selected snapshot and rebuilds its model and validation.
absl::Status EncodePqTables(const Dataset& dataset, const Split& split, const TrainOptions& options,
                            TrainResult* result) {
  result->float_validation_ndcg = result->validation.ndcg.mean;
  Snapshot& snapshot = result->snapshot;
  for (TableSpec& spec : *snapshot.manifest.mutable_tables()) {
    const RowStorage& storage = RowStorageFor(options, spec);
    if (storage.dtype != snapshot::UINT8) continue;
    RETURN_IF_ERROR(EncodeTableRows(storage, options.seed, &spec, &snapshot.tensors));
  }
  ASSIGN_OR_RETURN(TensorMap copy, CopyTensors(snapshot.tensors));
  ASSIGN_OR_RETURN(result->model, Model::Create(snapshot.manifest, std::move(copy)));
  result->validation = EvaluateModel(*result->model, dataset, split, HeldOut::kValidation,
                                     options.threads, options.max_history);
  result->encoded_validation_ndcg = result->validation.ndcg.mean;
  return absl::OkStatus();
}

absl::StatusOr<Snapshot> ExportSnapshot(const Dataset& dataset, const Split& split,
                                        const UserEncoder& users, const TrainableTable& items,
                                        const TrainableScorer& scorer,
                                        const TrainOptions& options) {
  Snapshot snapshot;
  const bool history = options.user_mode == snapshot::USER_MODE_HISTORY;
  TableSpec user_spec, item_spec;
  if (!users.tied()) {  // tied: the item table is the input table too
    RETURN_IF_ERROR(users.table().Export(history ? dataset.item_ids : dataset.user_ids,
                                         &snapshot.tensors, &user_spec));
    *snapshot.manifest.add_tables() = user_spec;
  }
  RETURN_IF_ERROR(items.Export(dataset.item_ids, &snapshot.tensors, &item_spec));
  *snapshot.manifest.add_tables() = item_spec;
  for (TableSpec& spec : *snapshot.manifest.mutable_tables()) {
    const RowStorage& storage = RowStorageFor(options, spec);
    if (storage.dtype == snapshot::INT8) {
      RETURN_IF_ERROR(EncodeTableRows(storage, options.seed, &spec, &snapshot.tensors));
    }
  }
  RETURN_IF_ERROR(scorer.Export(&snapshot.tensors, snapshot.manifest.mutable_scorer()));
  if (history) {
    // Users without a history are ranked by training popularity (share of interactions).
    snapshot.manifest.set_user_mode(snapshot::USER_MODE_HISTORY);
    snapshot.manifest.set_users(dataset.users());
    ASSIGN_OR_RETURN(Tensor popularity, MakeFloatTensor({dataset.items()}));
    const double total = std::max<double>(1.0, static_cast<double>(split.train_interactions));
    auto values = popularity.bytes.as<float>();
    for (size_t i = 0; i < values.size(); ++i) {
      values[i] = static_cast<float>(split.train_item_counts[i] / total);
    }
    snapshot.tensors["popularity"] = std::move(popularity);
  }
  auto& producer = *snapshot.manifest.mutable_producer();
  producer["tool"] = "ranker-train";
  producer["dataset"] = dataset.name;
  producer["options"] = DescribeOptions(options);
  return snapshot;
}

// The user side: a user table (id mode), an item_in table pooled over histories, or (tied)
// `items` pooled over histories.
absl::StatusOr<std::unique_ptr<UserEncoder>> MakeUserEncoder(const Dataset& dataset,
                                                             const Split& split,
                                                             const TrainOptions& options,
                                                             TrainableTable* items) {
  if (options.user_mode == snapshot::USER_MODE_HISTORY) {
    if (options.tied) return MakeTiedHistoryUserEncoder(items, split, options.max_history);
    ASSIGN_OR_RETURN(TableSpec spec, SizeTable("item_in", options.kind, dataset.items(), options.d,
                                               options.ratio, options.clamp_ratio));
    ASSIGN_OR_RETURN(TrainableTable table,
                     TrainableTable::Create(spec, split.train_item_counts, options.seed * 7 + 1,
                                            options.init_scale));
    return MakeHistoryUserEncoder(std::move(table), split, options.max_history);
  }
  if (options.user_mode != snapshot::USER_MODE_ID) {
    return absl::InvalidArgumentError("unknown user mode");
  }
  ASSIGN_OR_RETURN(TableSpec spec, SizeTable("user", options.kind, dataset.users(), options.d,
                                             options.ratio, options.clamp_ratio));
  std::vector<uint32_t> user_counts(dataset.users());
  for (size_t u = 0; u < dataset.users(); ++u) {
    user_counts[u] = static_cast<uint32_t>(split.users[u].train.size());
  }
  ASSIGN_OR_RETURN(
      TrainableTable table,
      TrainableTable::Create(spec, user_counts, options.seed * 7 + 1, options.init_scale));
  return MakeIdUserEncoder(std::move(table));
}

// A table's size in floats: its bytes as stored (int8, pq or head/tail rows included) / 4, as
// GetModelInfo's compression_ratio counts them and docs/results.md defines its ratios (what load
// builds on top, row indexes and the head/tail rank directory, is in the per-table resident
// bytes instead).
double TableFloats(const Feature& feature) {
  return static_cast<double>(StoredTableBytes(feature.table.spec())) / sizeof(float);
}

double TableRatio(const Feature& feature) {
  const double floats = TableFloats(feature);
  return floats > 0 ? static_cast<double>(feature.table.size()) * feature.table.dim() / floats : 0;
}

void SetRatios(const Dataset& dataset, TrainResult* result) {
  const Model& model = *result->model;
  double full = 0, compressed = 0;
  for (const Feature& feature : model.features()) {
    full += static_cast<double>(feature.table.size()) * feature.table.dim();
    compressed += TableFloats(feature);
  }
  result->compression_ratio = compressed > 0 ? full / compressed : 0;
  result->input_ratio = TableRatio(model.history_mode() ? model.item_in() : model.user());
  result->output_ratio = TableRatio(model.item());
  const double d = model.item().table.dim();
  const double scorer = static_cast<double>(model.scorer().resident_bytes()) / sizeof(float);
  double served = scorer + static_cast<double>(model.popularity().size()) + compressed;
  const double id_model = static_cast<double>(dataset.users() + dataset.items()) * d + scorer;
  result->ratio_vs_full_id_model = id_model / served;
}

}  // namespace

std::string DescribeOptions(const TrainOptions& o) {
  const std::string mode =
      o.user_mode == snapshot::USER_MODE_HISTORY
          ? absl::StrCat("user_mode=history ",
                         o.tied ? std::string("tied ")
                                : absl::StrCat("output_kind=", TableKindName(o.output_kind),
                                               " output_ratio=", o.output_ratio, " "),
                         "max_history=", o.max_history, " ")
          : std::string();
  return absl::StrCat(
      mode, "kind=", TableKindName(o.kind), " ratio=", o.ratio, " d=", o.d,
      " hidden=", absl::StrJoin(o.hidden, ","), " scorer=", ScorerModeName(o.scorer),
      " max_epochs=", o.max_epochs, " patience=", o.patience, " batch=", o.batch,
      " negatives=", o.negatives, " table_optimizer=", TableOptimizerName(o.table_optimizer),
      " embedding_lr=", o.embedding_lr, " scorer_lr=", o.scorer_lr,
      " weight_decay=", o.weight_decay, " seed=", o.seed, " threads=", o.threads,
      " rows=", RowStorageName(o.rows),
      o.pq_finetune_epochs > 0 ? absl::StrCat(" pq_finetune_epochs=", o.pq_finetune_epochs)
                               : std::string(),
      o.output_rows ? absl::StrCat(" output_rows=", RowStorageName(*o.output_rows))
                    : std::string());
}

absl::StatusOr<TrainResult> Train(const Dataset& dataset, const Split& split,
                                  const TrainOptions& options,
                                  const std::function<void(const EpochReport&)>& on_epoch) {
  const auto start = std::chrono::steady_clock::now();
  if (options.max_epochs < 1 || options.batch < 1 || options.negatives < 1 || options.threads < 1) {
    return absl::InvalidArgumentError(
        "max_epochs, batch, negatives and threads must each be at least 1");
  }
  RETURN_IF_ERROR(CheckRowStorages(options));
  const bool history = options.user_mode == snapshot::USER_MODE_HISTORY;
  const bool own_output = history && !options.tied;
  ASSIGN_OR_RETURN(
      TableSpec item_spec,
      SizeTable("item", own_output ? options.output_kind : options.kind, dataset.items(), options.d,
                own_output ? options.output_ratio : options.ratio, options.clamp_ratio));
  ASSIGN_OR_RETURN(TrainableTable items,
                   TrainableTable::Create(item_spec, split.train_item_counts, options.seed * 7 + 2,
                                          options.init_scale));
  ASSIGN_OR_RETURN(std::unique_ptr<UserEncoder> encoder,
                   MakeUserEncoder(dataset, split, options, &items));
  UserEncoder& users = *encoder;
  TrainableScorer scorer(options.d, options.hidden, options.scorer, options.seed * 7 + 3);
  scorer.set_mlp_frozen(options.scorer == ScorerMode::kMlpDot);

  // A history model learns from users with at least one other training item to pool.
  std::vector<TrainingPair> positives;
  for (uint32_t u = 0; u < split.users.size(); ++u) {
    if (history && split.users[u].train.size() < 2) continue;
    for (uint32_t item : split.users[u].train) positives.push_back({u, item, 0});
  }
  if (positives.empty()) return absl::InvalidArgumentError("no training interactions");
  const int threads = options.threads;
  std::vector<TrainWorker> workers(threads);
  for (TrainWorker& w : workers) {
    w.user_grad.Resize(users.table().params());
    w.item_grad.Resize(items.params());
    w.scorer_grad = scorer.MakeGradient();
  }
  std::mt19937_64 rng(options.seed);
  const uint32_t n_items = static_cast<uint32_t>(dataset.items());
  TrainResult result;
  double best_ndcg = -1;
  int stale = 0;
  std::vector<TrainingPair> pairs;
  int64_t step = 0;                            // optimizer steps taken (Adam's bias correction)
  std::optional<TrainableScorer> best_scorer;  // the best epoch's, for pq fine-tuning
  // One pass over the training positives; returns the mean loss.
  const auto run_epoch = [&]() -> double {
    std::shuffle(positives.begin(), positives.end(), rng);
    double loss = 0;
    size_t pair_count = 0;
    for (size_t begin = 0; begin < positives.size(); begin += options.batch) {
      const size_t end = std::min(positives.size(), begin + options.batch);
      pairs.clear();
      for (size_t i = begin; i < end; ++i) {
        const std::vector<uint32_t>& known = split.users[positives[i].user].train;
        for (int k = 0; k < options.negatives; ++k) {
          uint32_t negative = 0;
          for (int attempt = 0; attempt < 50; ++attempt) {
            negative = static_cast<uint32_t>(rng() % n_items);
            if (!std::binary_search(known.begin(), known.end(), negative)) break;
          }
          pairs.push_back({positives[i].user, positives[i].positive, negative});
        }
      }
      const double scale = 1.0 / static_cast<double>(pairs.size());
      // Thread t takes pairs [t * size / threads, (t + 1) * size / threads); the calling
      // thread takes share 0.
      std::vector<std::thread> helpers;
      const auto share = [&](int t) { return pairs.size() * t / threads; };
      for (int t = 1; t < threads; ++t) {
        helpers.emplace_back(RunTrainShare, std::cref(pairs), share(t), share(t + 1), scale,
                             std::cref(users), std::cref(items), std::cref(scorer), &workers[t]);
      }
      RunTrainShare(pairs, 0, share(1), scale, users, items, scorer, &workers[0]);
      for (std::thread& helper : helpers) helper.join();
      for (int t = 1; t < threads; ++t) {
        workers[0].user_grad.Merge(workers[t].user_grad);
        workers[0].item_grad.Merge(workers[t].item_grad);
        workers[0].scorer_grad.Add(workers[t].scorer_grad);
        workers[t].scorer_grad.Clear();
      }
      ++step;
      const auto apply = [&](TrainableTable& table, TableGradient* grad) {
        if (options.table_optimizer == TableOptimizer::kAdam) {
          table.ApplyAdam(grad, options.embedding_lr, options.weight_decay, step);
        } else {
          table.ApplyAdagrad(grad, options.embedding_lr, options.weight_decay);
        }
      };
      if (users.tied()) {
        // One table: its gradient is the sum of the input side's and the output side's.
        workers[0].item_grad.Merge(workers[0].user_grad);
      } else {
        apply(users.table(), &workers[0].user_grad);
      }
      apply(items, &workers[0].item_grad);
      scorer.ApplyAdam(workers[0].scorer_grad, options.scorer_lr);
      workers[0].scorer_grad.Clear();
      for (const TrainWorker& w : workers) loss += w.loss;
      pair_count += pairs.size();
    }
    return loss / static_cast<double>(std::max<size_t>(1, pair_count));
  };
  for (int epoch = 1; epoch <= options.max_epochs; ++epoch) {
    if (stale >= options.patience) {
      if (!scorer.mlp_frozen()) break;
      scorer.set_mlp_frozen(false);  // phase 2: the MLP as a residual on the dot product
      stale = 0;
    }
    const auto epoch_start = std::chrono::steady_clock::now();
    const double loss = run_epoch();
    ASSIGN_OR_RETURN(Snapshot snapshot,
                     ExportSnapshot(dataset, split, users, items, scorer, options));
    ASSIGN_OR_RETURN(TensorMap copy, CopyTensors(snapshot.tensors));
    ASSIGN_OR_RETURN(std::unique_ptr<const Model> model,
                     Model::Create(snapshot.manifest, std::move(copy)));
    Evaluation validation =
        EvaluateModel(*model, dataset, split, HeldOut::kValidation, threads, options.max_history);
    const bool best = validation.ndcg.mean > best_ndcg;
    if (best) {
      if (options.pq_finetune_epochs > 0) best_scorer = scorer;  // fine-tuning starts from it
      best_ndcg = validation.ndcg.mean;
      result.snapshot = std::move(snapshot);
      result.model = std::move(model);
      result.best_epoch = epoch;
      result.validation = std::move(validation);
      stale = 0;
    } else {
      ++stale;
    }
    if (on_epoch) {
      on_epoch(
          {epoch, !scorer.mlp_frozen() && options.scorer != ScorerMode::kDot, loss,
           best ? best_ndcg : validation.ndcg.mean,
           std::chrono::duration<double>(std::chrono::steady_clock::now() - epoch_start).count(),
           best});
    }
  }
  if (result.model == nullptr) {
    return absl::InternalError("no epoch gave a finite validation nDCG: nothing to publish");
  }
  if (AnyPqRows(options)) {
    RETURN_IF_ERROR(EncodePqTables(dataset, split, options, &result));
    // Fine-tuning with the codes fixed: from the encoded best epoch's decoded rows, each epoch
    // trains the float rows, refits every codebook to them (the mean of each code's
    // sub-vectors: the straight-through step, averaged per centroid) and decodes the rows back,
    // so training goes on from the pq model itself; the best on validation is kept.
    for (int epoch = 1; epoch <= options.pq_finetune_epochs; ++epoch) {
      const auto epoch_start = std::chrono::steady_clock::now();
      if (epoch == 1) {
        RETURN_IF_ERROR(LoadTables(result.snapshot, &users, &items));
        if (best_scorer.has_value()) scorer = *best_scorer;
      }
      const double loss = run_epoch();
      ASSIGN_OR_RETURN(Snapshot snapshot,
                       ExportSnapshot(dataset, split, users, items, scorer, options));
      for (TableSpec& spec : *snapshot.manifest.mutable_tables()) {
        for (const TableSpec& pq : result.snapshot.manifest.tables()) {
          if (pq.feature() != spec.feature() || !HasPqRows(pq)) continue;
          RETURN_IF_ERROR(RefitPqTable(pq, result.snapshot.tensors, &spec, &snapshot.tensors));
        }
      }
      RETURN_IF_ERROR(LoadTables(snapshot, &users, &items));
      ASSIGN_OR_RETURN(TensorMap copy, CopyTensors(snapshot.tensors));
      ASSIGN_OR_RETURN(std::unique_ptr<const Model> model,
                       Model::Create(snapshot.manifest, std::move(copy)));
      Evaluation validation =
          EvaluateModel(*model, dataset, split, HeldOut::kValidation, threads, options.max_history);
      const bool best = validation.ndcg.mean > result.validation.ndcg.mean;
      if (best) {
        result.snapshot = std::move(snapshot);
        result.model = std::move(model);
        result.validation = std::move(validation);
        result.pq_finetune_best_epoch = epoch;
      }
      if (on_epoch) {
        on_epoch(
            {options.max_epochs + epoch, false, loss, result.validation.ndcg.mean,
             std::chrono::duration<double>(std::chrono::steady_clock::now() - epoch_start).count(),
             best});
      }
    }
  }
  result.train_seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  SetRatios(dataset, &result);
  for (const Feature& feature : result.model->features()) {
    result.table_bytes += result.model->table_resident_bytes(feature);
  }
  return result;
}

}  // namespace ranker
