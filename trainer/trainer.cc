#include "trainer/trainer.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstring>
#include <random>
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/status_macros.h"
#include "model/table_sizing.h"
#include "trainer/trainable_table.h"

namespace ranker {
namespace {

// One thread's share of a step: buffers reused across steps.
struct Worker {
  AlignedVector<float> users, positives, negatives, d_users, d_users_neg, d_positives, d_negatives;
  AlignedVector<float> scores_pos, scores_neg, d_scores_pos, d_scores_neg;
  ScorerCache cache_pos, cache_neg;
  TableGradient user_grad, item_grad;
  ScorerGradient scorer_grad;
  double loss = 0;
};

struct Pair {
  uint32_t user, positive, negative;
};

absl::StatusOr<Snapshot> ExportSnapshot(const Dataset& dataset, const TrainableTable& users,
                                        const TrainableTable& items, const TrainableScorer& scorer,
                                        const TrainOptions& options) {
  Snapshot snapshot;
  TableSpec user_spec, item_spec;
  RETURN_IF_ERROR(users.Export(dataset.user_ids, &snapshot.tensors, &user_spec));
  RETURN_IF_ERROR(items.Export(dataset.item_ids, &snapshot.tensors, &item_spec));
  *snapshot.manifest.add_tables() = user_spec;
  *snapshot.manifest.add_tables() = item_spec;
  RETURN_IF_ERROR(scorer.Export(&snapshot.tensors, snapshot.manifest.mutable_scorer()));
  auto& producer = *snapshot.manifest.mutable_producer();
  producer["tool"] = "ranker-train";
  producer["dataset"] = dataset.name;
  producer["options"] = DescribeOptions(options);
  return snapshot;
}

void RunShare(const std::vector<Pair>& pairs, size_t begin, size_t end, double scale,
              const TrainableTable& user_table, const TrainableTable& item_table,
              const TrainableScorer& scorer, Worker* w) {
  const int rows = static_cast<int>(end - begin);
  w->loss = 0;
  if (rows <= 0) return;
  const size_t d = user_table.dim();
  for (auto* v : {&w->users, &w->positives, &w->negatives, &w->d_users, &w->d_users_neg,
                  &w->d_positives, &w->d_negatives}) {
    v->resize(rows * d);
  }
  for (auto* v : {&w->scores_pos, &w->scores_neg, &w->d_scores_pos, &w->d_scores_neg}) {
    v->resize(rows);
  }
  for (int r = 0; r < rows; ++r) {
    const Pair& p = pairs[begin + r];
    user_table.Embed(p.user, w->users.data() + r * d);
    item_table.Embed(p.positive, w->positives.data() + r * d);
    item_table.Embed(p.negative, w->negatives.data() + r * d);
  }
  scorer.Forward(w->users.data(), w->positives.data(), rows, w->scores_pos.data(), &w->cache_pos);
  scorer.Forward(w->users.data(), w->negatives.data(), rows, w->scores_neg.data(), &w->cache_neg);
  for (int r = 0; r < rows; ++r) {
    const double x = static_cast<double>(w->scores_pos[r]) - w->scores_neg[r];
    // log(1 + exp(-x)), computed stably; dL/dx = -sigmoid(-x).
    w->loss += x > 0 ? std::log1p(std::exp(-x)) : -x + std::log1p(std::exp(x));
    const double dx = -1.0 / (1.0 + std::exp(x));
    w->d_scores_pos[r] = static_cast<float>(dx * scale);
    w->d_scores_neg[r] = static_cast<float>(-dx * scale);
  }
  scorer.Backward(w->users.data(), w->positives.data(), w->cache_pos, w->d_scores_pos.data(),
                  w->d_users.data(), w->d_positives.data(), &w->scorer_grad);
  scorer.Backward(w->users.data(), w->negatives.data(), w->cache_neg, w->d_scores_neg.data(),
                  w->d_users_neg.data(), w->d_negatives.data(), &w->scorer_grad);
  for (int r = 0; r < rows; ++r) {
    const Pair& p = pairs[begin + r];
    float* du = w->d_users.data() + r * d;
    const float* du_neg = w->d_users_neg.data() + r * d;
    for (size_t k = 0; k < d; ++k) du[k] += du_neg[k];
    user_table.Backward(p.user, du, &w->user_grad);
    item_table.Backward(p.positive, w->d_positives.data() + r * d, &w->item_grad);
    item_table.Backward(p.negative, w->d_negatives.data() + r * d, &w->item_grad);
  }
}

}  // namespace

std::string DescribeOptions(const TrainOptions& o) {
  return absl::StrCat("kind=", TableKindName(o.kind), " ratio=", o.ratio, " d=", o.d,
                      " hidden=", absl::StrJoin(o.hidden, ","),
                      " scorer=", ScorerModeName(o.scorer), " max_epochs=", o.max_epochs,
                      " patience=", o.patience, " batch=", o.batch, " negatives=", o.negatives,
                      " embedding_lr=", o.embedding_lr, " scorer_lr=", o.scorer_lr,
                      " weight_decay=", o.weight_decay, " seed=", o.seed, " threads=", o.threads);
}

absl::StatusOr<TrainResult> Train(const Dataset& dataset, const Split& split,
                                  const TrainOptions& options,
                                  const std::function<void(const EpochReport&)>& on_epoch) {
  const auto start = std::chrono::steady_clock::now();
  if (options.max_epochs < 1 || options.batch < 1 || options.negatives < 1 || options.threads < 1) {
    return absl::InvalidArgumentError(
        "max_epochs, batch, negatives and threads must each be at least 1");
  }
  ASSIGN_OR_RETURN(TableSpec user_spec, SizeTable("user", options.kind, dataset.users(), options.d,
                                                  options.ratio, options.clamp_ratio));
  ASSIGN_OR_RETURN(TableSpec item_spec, SizeTable("item", options.kind, dataset.items(), options.d,
                                                  options.ratio, options.clamp_ratio));
  std::vector<uint32_t> user_counts(dataset.users());
  for (size_t u = 0; u < dataset.users(); ++u) {
    user_counts[u] = static_cast<uint32_t>(split.users[u].train.size());
  }
  ASSIGN_OR_RETURN(
      TrainableTable users,
      TrainableTable::Create(user_spec, user_counts, options.seed * 7 + 1, options.init_scale));
  ASSIGN_OR_RETURN(TrainableTable items,
                   TrainableTable::Create(item_spec, split.train_item_counts, options.seed * 7 + 2,
                                          options.init_scale));
  TrainableScorer scorer(options.d, options.hidden, options.scorer, options.seed * 7 + 3);
  scorer.set_mlp_frozen(options.scorer == ScorerMode::kMlpDot);

  std::vector<Pair> positives;
  for (uint32_t u = 0; u < split.users.size(); ++u) {
    for (uint32_t item : split.users[u].train) positives.push_back({u, item, 0});
  }
  if (positives.empty()) return absl::InvalidArgumentError("no training interactions");
  const int threads = options.threads;
  std::vector<Worker> workers(threads);
  for (Worker& w : workers) {
    w.user_grad.Resize(users.params());
    w.item_grad.Resize(items.params());
    w.scorer_grad = scorer.MakeGradient();
  }
  std::mt19937_64 rng(options.seed);
  const uint32_t n_items = static_cast<uint32_t>(dataset.items());
  TrainResult result;
  double best_ndcg = -1;
  int stale = 0;
  std::vector<Pair> pairs;
  for (int epoch = 1; epoch <= options.max_epochs; ++epoch) {
    if (stale >= options.patience) {
      if (!scorer.mlp_frozen()) break;
      scorer.set_mlp_frozen(false);  // phase 2: the MLP as a residual on the dot product
      stale = 0;
    }
    const auto epoch_start = std::chrono::steady_clock::now();
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
        helpers.emplace_back(RunShare, std::cref(pairs), share(t), share(t + 1), scale,
                             std::cref(users), std::cref(items), std::cref(scorer), &workers[t]);
      }
      RunShare(pairs, 0, share(1), scale, users, items, scorer, &workers[0]);
      for (std::thread& helper : helpers) helper.join();
      for (int t = 1; t < threads; ++t) {
        workers[0].user_grad.Merge(workers[t].user_grad);
        workers[0].item_grad.Merge(workers[t].item_grad);
        workers[0].scorer_grad.Add(workers[t].scorer_grad);
        workers[t].scorer_grad.Clear();
      }
      users.ApplyAdagrad(&workers[0].user_grad, options.embedding_lr, options.weight_decay);
      items.ApplyAdagrad(&workers[0].item_grad, options.embedding_lr, options.weight_decay);
      scorer.ApplyAdam(workers[0].scorer_grad, options.scorer_lr);
      workers[0].scorer_grad.Clear();
      for (const Worker& w : workers) loss += w.loss;
      pair_count += pairs.size();
    }
    ASSIGN_OR_RETURN(Snapshot snapshot, ExportSnapshot(dataset, users, items, scorer, options));
    ASSIGN_OR_RETURN(TensorMap copy, CopyTensors(snapshot.tensors));
    ASSIGN_OR_RETURN(std::unique_ptr<const Model> model,
                     Model::Create(snapshot.manifest, std::move(copy)));
    Evaluation validation = EvaluateModel(*model, dataset, split, HeldOut::kValidation, threads);
    const bool best = validation.ndcg.mean > best_ndcg;
    if (best) {
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
          {epoch, !scorer.mlp_frozen() && options.scorer != ScorerMode::kDot,
           loss / static_cast<double>(pair_count), best ? best_ndcg : validation.ndcg.mean,
           std::chrono::duration<double>(std::chrono::steady_clock::now() - epoch_start).count(),
           best});
    }
  }
  if (result.model == nullptr) {
    return absl::InternalError("no epoch gave a finite validation nDCG: nothing to publish");
  }
  result.train_seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  result.compression_ratio = result.model->compression_ratio();
  for (const Feature& feature : result.model->features()) {
    result.table_bytes += result.model->table_resident_bytes(feature);
  }
  return result;
}

}  // namespace ranker
