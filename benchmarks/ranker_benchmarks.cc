// Micro-benchmarks of the Rank() hot path, one binary (not run as tests; CI only builds it):
//   BM_Gather/<kind>/<entities>   embedding gather of 1,000 random ids per table kind
//   BM_Score/<candidates>         RankNet scoring (d=64, MLP 192-128-64-1) of a candidate batch
//   BM_Gemm/<rows>                a plain Eigen GEMM of the first layer's shape: the compute peak
//   BM_TopK/<n>                   top-10 selection over n scores
//   BM_ModelRank/<candidates>/<retrieve_n>  Model::Rank end to end in process (two stages when
//                                 retrieve_n > 0), with allocations per call
// Two stages over a 1,000,000-item catalogue: two_stage_benchmarks.cc.
// Run: build/benchmarks/ranker_benchmarks [--benchmark_filter=...]
#include <benchmark/benchmark.h>

#include <Eigen/Core>
#include <atomic>
#include <cstdlib>
#include <new>
#include <random>

#include "benchmarks/allocation_counter.h"
#include "model/demo_model.h"
#include "model/model.h"
#include "model/table_sizing.h"
#include "model/top_k.h"

namespace ranker {
namespace {

std::unique_ptr<const Model> BuildModel(TableKind kind, uint64_t users, uint64_t items, uint32_t d,
                                        std::vector<uint32_t> hidden, double ratio = 16) {
  DemoModelOptions options;
  options.users = users;
  options.items = items;
  options.d = d;
  options.kind = kind;
  options.ratio = ratio;
  options.clamp_ratio = true;
  options.hidden = std::move(hidden);
  Snapshot s = *MakeDemoSnapshot(options);
  return *Model::Create(s.manifest, std::move(s.tensors));
}

void BM_Gather(benchmark::State& state) {
  const auto kind = static_cast<TableKind>(state.range(0));
  const uint64_t n = static_cast<uint64_t>(state.range(1));
  auto model = BuildModel(kind, 1000, n, 64, {8});
  const EmbeddingTable& table = model->item().table;
  std::mt19937_64 rng(1);
  std::vector<uint64_t> ids(1000);
  for (uint64_t& id : ids) id = rng() % n;
  AlignedVector<float> out(ids.size() * 64);
  for (auto _ : state) {
    table.Gather(ids.data(), ids.data(), ids.size(), out.data());
    benchmark::DoNotOptimize(out.data());
  }
  state.SetItemsProcessed(state.iterations() * static_cast<int64_t>(ids.size()));
  state.SetLabel(TableKindName(kind));
}
// Every declared table kind.
std::vector<int64_t> AllKinds() {
  std::vector<int64_t> kinds;
  for (const TableLayout& layout : AllTableLayouts()) kinds.push_back(layout.kind);
  return kinds;
}
BENCHMARK(BM_Gather)
    ->ArgsProduct({AllKinds(), {100000, 1000000, 10000000}})
    ->Unit(benchmark::kMicrosecond);

void BM_Score(benchmark::State& state) {
  const size_t candidates = static_cast<size_t>(state.range(0));
  auto model = BuildModel(snapshot::FULL, 100, 100, 64, {128, 64});
  const RankNetScorer& scorer = model->scorer();
  AlignedVector<float> user(64), items(candidates * 64), scores(candidates);
  FillUniform(1, 0.5f, user.data(), user.size());
  FillUniform(2, 0.5f, items.data(), items.size());
  ScorerScratch scratch;
  scorer.PrepareUser(user.data(), &scratch);
  for (auto _ : state) {
    scorer.Score(items.data(), candidates, scores.data(), &scratch);
    benchmark::DoNotOptimize(scores.data());
  }
  // FLOPs actually executed: folded layer 1 (d -> 128), 128 -> 64, 64 -> 1, the dot term.
  const double flops = 2.0 * (64 * 128 + 128 * 64 + 64 + 64);
  state.counters["GFLOP/s"] = benchmark::Counter(flops * static_cast<double>(candidates),
                                                 benchmark::Counter::kIsIterationInvariantRate,
                                                 benchmark::Counter::kIs1000);
  state.SetItemsProcessed(state.iterations() * static_cast<int64_t>(candidates));
}
BENCHMARK(BM_Score)->Arg(10)->Arg(100)->Arg(1000)->Arg(10000)->Unit(benchmark::kMicrosecond);

void BM_Gemm(benchmark::State& state) {
  // [rows x 64] x [64 x 128]: the folded first layer of d=64, MLP 192-128-64-1.
  using RowMatrix = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
  const Eigen::Index rows = state.range(0), in = state.range(1), out = 128;
  RowMatrix a = RowMatrix::Random(rows, in), w = RowMatrix::Random(out, in), c(rows, out);
  for (auto _ : state) {
    c.noalias() = a * w.transpose();
    benchmark::DoNotOptimize(c.data());
  }
  state.counters["GFLOP/s"] =
      benchmark::Counter(2.0 * rows * in * out, benchmark::Counter::kIsIterationInvariantRate,
                         benchmark::Counter::kIs1000);
}
BENCHMARK(BM_Gemm)
    ->Args({1000, 64})
    ->Args({1000, 192})
    ->Args({1024, 64})
    ->Unit(benchmark::kMicrosecond);

void BM_TopK(benchmark::State& state) {
  const size_t n = static_cast<size_t>(state.range(0));
  std::vector<float> scores(n);
  FillUniform(3, 1.0f, scores.data(), n);
  TopK top;
  std::vector<ScoredId> out;
  out.reserve(10);
  for (auto _ : state) {
    top.Reset(10);
    for (size_t i = 0; i < n; ++i) top.Push(i, scores[i]);
    top.TakeSorted(&out);
    benchmark::DoNotOptimize(out.data());
  }
  state.SetItemsProcessed(state.iterations() * static_cast<int64_t>(n));
}
BENCHMARK(BM_TopK)->Arg(100)->Arg(1000)->Arg(100000)->Arg(1000000)->Unit(benchmark::kMicrosecond);

void BM_ModelRank(benchmark::State& state) {
  const size_t candidates = static_cast<size_t>(state.range(0));
  RankQuery query;
  query.k = 10;
  query.retrieve_n = static_cast<size_t>(state.range(1));
  static auto model = BuildModel(snapshot::MEMCOM, 100000, 10000, 32, {64, 32});
  std::mt19937_64 rng(4);
  std::vector<uint64_t> ids(candidates);
  for (uint64_t& id : ids) id = rng() % 10000;
  RankScratch scratch;
  RankResult result;
  query.candidates = ids;
  query.user_id = 1;
  model->Rank(query, &scratch, &result);  // warm the scratch buffers
  const uint64_t before = AllocationCount();
  for (auto _ : state) {
    query.user_id = state.iterations() % 100000;
    model->Rank(query, &scratch, &result);
    benchmark::DoNotOptimize(result.items.data());
  }
  state.counters["allocs/call"] =
      static_cast<double>(AllocationCount() - before) / static_cast<double>(state.iterations());
}
BENCHMARK(BM_ModelRank)
    ->Args({0, 0})
    ->Args({100, 0})
    ->Args({1000, 0})
    ->Args({0, 500})
    ->Args({1000, 100})
    ->Unit(benchmark::kMicrosecond);

}  // namespace
}  // namespace ranker

BENCHMARK_MAIN();
