// Two stages over a 1,000,000-item catalogue (the two-stage targets): history model, d = 64,
// MLP 192-128-64-1, a user of 20 history items, k = 10, one thread.
//   BM_Retrieval/<kind>/<N>        stage 1 alone (Model::Retrieve)
//   BM_FullScanRetrieval/...       stage 1 scoring every item exactly (no bounded scan)
//   BM_CatalogueRank/<kind>/<N>    whole-catalogue Rank: retrieval, then the scorer over N;
//                                  N = 0: one stage, the scorer over every item
// Each reports the memory-traffic bound of its work, measured in this process: the bytes the
// kind's retrieval reads once (the item table's tensors and row index: S and w for memcom, E
// for full) at this machine's sequential read rate (best of 5 sums over 1 GiB), plus stage
// 2's FLOPs at the GEMM rate of its first layer's shape; x_bound = time / bound, and GB/s =
// retrieval bytes / time. allocs/call counts every heap allocation of a warm call.
#include <benchmark/benchmark.h>

#include <Eigen/Core>
#include <algorithm>
#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <tuple>
#include <vector>

#include "benchmarks/allocation_counter.h"
#include "model/demo_model.h"
#include "model/model.h"
#include "model/row_budget.h"
#include "model/table_layout.h"

namespace ranker {
namespace {

constexpr uint64_t kItems = 1000000;
constexpr uint32_t kDim = 64;
constexpr size_t kHistory = 20;
const std::vector<uint32_t> kHidden = {128, 64};

double BestSeconds(int repeats, const std::function<void()>& work) {
  double best = 1e30;
  for (int r = 0; r < repeats; ++r) {
    const auto start = std::chrono::steady_clock::now();
    work();
    best = std::min(
        best, std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
  }
  return best;
}

// Bytes per second of a sequential read of 1 GiB (far beyond the caches).
double SequentialReadRate() {
  static const double rate = [] {
    Eigen::VectorXf data = Eigen::VectorXf::Ones(Eigen::Index{1} << 28);
    float sink = 0;
    const double seconds = BestSeconds(5, [&] { sink += data.sum(); });
    benchmark::DoNotOptimize(sink);
    return static_cast<double>(data.size()) * sizeof(float) / seconds;
  }();
  return rate;
}

// FLOPs per second of the folded first layer's GEMM, [rows x d] x [d x h1].
double GemmRate(Eigen::Index rows) {
  static std::map<Eigen::Index, double> rates;
  auto [it, inserted] = rates.try_emplace(rows, 0.0);
  if (inserted) {
    using RowMatrix = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
    RowMatrix a = RowMatrix::Random(rows, kDim), w = RowMatrix::Random(kHidden[0], kDim);
    RowMatrix c(rows, kHidden[0]);
    const double seconds = BestSeconds(50, [&] { c.noalias() = a * w.transpose(); });
    benchmark::DoNotOptimize(c.data());
    it->second = 2.0 * static_cast<double>(rows) * kDim * kHidden[0] / seconds;
  }
  return it->second;
}

// Stage 2's FLOPs per item: the folded layer 1, the other layers, the dot term.
double ScorerFlopsPerItem() {
  return 2.0 * (kDim * kHidden[0] + kHidden[0] * kHidden[1] + kHidden[1] + kDim);
}

// row_storage: 0 float32 rows, 1 int8 rows with a scale each (model/int8_rows.h), 2 the storages
// ranker-train --target_ratio 16 chooses for this catalogue (model/row_budget.h: head/tail pq
// codes), 3 single-width pq codes of about the same bytes (pq8x8 in, pq16x8 out: what the rule
// chose before head/tail rows were served).
const Model& CatalogueModel(TableKind kind, int64_t row_storage, uint64_t items = kItems) {
  static std::map<std::tuple<TableKind, int64_t, uint64_t>, std::unique_ptr<const Model>> models;
  std::unique_ptr<const Model>& model = models[{kind, row_storage, items}];
  if (model == nullptr) {
    DemoModelOptions options;
    options.users = 10000000;
    options.items = items;
    options.d = kDim;
    options.kind = kind;
    options.ratio = 16;
    options.hidden = kHidden;
    options.user_mode = snapshot::USER_MODE_HISTORY;
    options.rows.dtype = row_storage == 1 ? snapshot::INT8 : snapshot::FLOAT32;
    if (row_storage == 2) {
      const RowBudget budget = *RecommendRowBudget(items, kDim, 16);
      options.rows = budget.input;
      options.output_rows = budget.output;
    } else if (row_storage == 3) {
      options.rows = *ParseRowStorage("pq8x8");
      options.output_rows = *ParseRowStorage("pq16x8");
    }
    Snapshot snapshot = *MakeDemoSnapshot(options);
    model = *Model::Create(snapshot.manifest, std::move(snapshot.tensors));
  }
  return *model;
}

std::vector<uint64_t> History() {
  std::vector<uint64_t> history;
  for (uint64_t i = 0; i < kHistory; ++i) history.push_back((i * 48271 + 11) % kItems);
  return history;
}

// Times `call` on warm scratch and reports the bound of `retrieval_bytes` read once plus
// `scored` items through the scorer.
template <typename Call>
void RunAgainstBound(benchmark::State& state, const Model& model, size_t scored, Call call) {
  RankScratch scratch;
  RankResult result;
  call(&scratch, &result);  // warm
  const double bytes = static_cast<double>(model.item().table.resident_bytes());
  const double bound_seconds =
      bytes / SequentialReadRate() +
      (scored == 0 ? 0.0
                   : ScorerFlopsPerItem() * static_cast<double>(scored) /
                         GemmRate(static_cast<Eigen::Index>(std::min<size_t>(scored, 1024))));
  const uint64_t allocations = AllocationCount();
  for (auto _ : state) {
    call(&scratch, &result);
    benchmark::DoNotOptimize(result.items.data());
  }
  const double calls = static_cast<double>(state.iterations());
  state.counters["allocs/call"] = static_cast<double>(AllocationCount() - allocations) / calls;
  state.counters["bound_ms"] = bound_seconds * 1e3;
  state.counters["x_bound"] = benchmark::Counter(
      calls * bound_seconds, benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
  state.counters["GB/s"] = benchmark::Counter(bytes * calls * 1e-9, benchmark::Counter::kIsRate);
  state.counters["read_GB/s"] = SequentialReadRate() * 1e-9;
  const TableSpec& spec = model.item().table.spec();
  state.SetLabel(TableKindName(spec.kind()) + " " + RowStorageName(RowStorageOf(spec)));
}

void BM_Retrieval(benchmark::State& state) {
  const Model& model = CatalogueModel(static_cast<TableKind>(state.range(0)), state.range(2));
  const std::vector<uint64_t> history = History();
  RankQuery query;
  query.history = history;
  query.retrieve_n = static_cast<size_t>(state.range(1));
  RunAgainstBound(state, model, 0, [&](RankScratch* scratch, RankResult* result) {
    model.Retrieve(query, scratch, result);
  });
}

// Stage 1 the way it ran before the bounded scan (model/pq_scan.h): every item's exact score
// (DotRange over the catalogue) into a bounded heap, the history excluded. The same items as
// BM_Retrieval, for comparing the two in one process.
void BM_FullScanRetrieval(benchmark::State& state) {
  const Model& model = CatalogueModel(static_cast<TableKind>(state.range(0)), state.range(2));
  const EmbeddingTable& table = model.item().table;
  std::vector<uint64_t> history = History();
  std::sort(history.begin(), history.end());
  const size_t keep = static_cast<size_t>(state.range(1));
  RunAgainstBound(state, model, 0, [&](RankScratch* scratch, RankResult*) {
    scratch->user.resize(table.dim());
    uint32_t used = 0, unknown = 0;
    model.EmbedHistory(history, scratch->user.data(), &used, &unknown);
    scratch->dot.user = scratch->user.data();
    table.PrepareDot(&scratch->dot);
    scratch->scores.resize(Model::kBlockSize);
    scratch->retrieval.Reset(keep);
    for (uint64_t first = 0; first < table.size(); first += Model::kBlockSize) {
      const size_t count = std::min<uint64_t>(Model::kBlockSize, table.size() - first);
      table.DotRange(scratch->dot, first, count, scratch->scores.data());
      for (size_t r = 0; r < count; ++r) {
        const float score = scratch->scores[r];
        if (scratch->retrieval.full() && !(score > scratch->retrieval.worst_score())) continue;
        if (std::binary_search(history.begin(), history.end(), first + r)) continue;
        scratch->retrieval.Push(first + r, score);
      }
    }
    scratch->retrieval.TakeInIdOrder(&scratch->retrieved);
  });
}

// retrieve_n 0: one stage, the scorer over every item.
void BM_CatalogueRank(benchmark::State& state) {
  const Model& model = CatalogueModel(static_cast<TableKind>(state.range(0)), state.range(2));
  const std::vector<uint64_t> history = History();
  RankQuery query;
  query.history = history;
  query.k = 10;
  query.retrieve_n = static_cast<size_t>(state.range(1));
  const size_t scored = query.retrieve_n == 0 ? kItems : query.retrieve_n;
  RunAgainstBound(state, model, scored, [&](RankScratch* scratch, RankResult* result) {
    model.Rank(query, scratch, result);
  });
}

// The 16x budget's model (full tables, head/tail pq codes) over `items` (range 1) items, two stages
// keeping range(0).
void BM_BudgetCatalogueRank(benchmark::State& state) {
  const uint64_t items = static_cast<uint64_t>(state.range(1));
  const Model& model = CatalogueModel(snapshot::FULL, 2, items);
  std::vector<uint64_t> history;
  for (uint64_t i = 0; i < kHistory; ++i) history.push_back((i * 48271 + 11) % items);
  RankQuery query;
  query.history = history;
  query.k = 10;
  query.retrieve_n = static_cast<size_t>(state.range(0));
  RunAgainstBound(state, model, query.retrieve_n, [&](RankScratch* scratch, RankResult* result) {
    model.Rank(query, scratch, result);
  });
}
BENCHMARK(BM_BudgetCatalogueRank)
    ->Args({100, 1000000})
    ->Args({500, 1000000})
    ->Args({100, 10000000})
    ->Unit(benchmark::kMillisecond);

BENCHMARK(BM_FullScanRetrieval)
    ->Args({snapshot::FULL, 500, 2})
    ->Args({snapshot::FULL, 500, 3})
    ->Unit(benchmark::kMillisecond);

// Args: kind, retrieve_n, row storage (0 float32, 1 int8, 2 the 16x budget's head/tail codes,
// 3 single-width pq codes).
BENCHMARK(BM_Retrieval)
    ->Args({snapshot::MEMCOM, 500, 0})
    ->Args({snapshot::FULL, 500, 0})
    ->Args({snapshot::HASH, 500, 0})
    ->Args({snapshot::QR, 500, 0})
    ->Args({snapshot::MEMCOM, 500, 1})
    ->Args({snapshot::FULL, 500, 1})
    ->Args({snapshot::QR, 500, 1})
    ->Args({snapshot::FULL, 500, 2})
    ->Args({snapshot::FULL, 500, 3})
    ->Unit(benchmark::kMillisecond);
BENCHMARK(BM_CatalogueRank)
    ->Args({snapshot::MEMCOM, 100, 0})
    ->Args({snapshot::MEMCOM, 500, 0})
    ->Args({snapshot::MEMCOM, 2000, 0})
    ->Args({snapshot::FULL, 500, 0})
    ->Args({snapshot::MEMCOM, 0, 0})
    ->Args({snapshot::MEMCOM, 500, 1})
    ->Args({snapshot::FULL, 500, 1})
    ->Args({snapshot::FULL, 500, 2})
    ->Args({snapshot::FULL, 100, 2})
    ->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace ranker
