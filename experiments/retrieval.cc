// Orchestrates `ranker-experiments retrieval`: training through the sweep's TrainSeeds, measurement
// (retrieval_curve), then the report, CSV and plot (retrieval_report, sweep_plot's RunPlot).
#include "experiments/retrieval.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <utility>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "common/files.h"
#include "common/log.h"
#include "common/run_program.h"
#include "common/status_macros.h"
#include "experiments/retrieval_report.h"
#include "experiments/sweep_plot.h"
#include "experiments/sweep_run.h"
#include "experiments/sweep_stats.h"

namespace ranker {

std::vector<SweepMethod> DefaultRetrievalMethods() {
  using snapshot::FULL, snapshot::MEMCOM;
  return {HistoryMethod(MEMCOM, 16), HistoryMethod(MEMCOM, 16, MEMCOM, 16), TablesMethod(FULL),
          TablesMethod(MEMCOM)};
}

absl::StatusOr<std::vector<size_t>> ParseRetrieveNs(absl::string_view text) {
  std::vector<size_t> ns;
  for (absl::string_view part : absl::StrSplit(text, ',', absl::SkipEmpty())) {
    uint64_t n = 0;
    if (!absl::SimpleAtoi(part, &n) || n == 0) {
      return absl::InvalidArgumentError(
          absl::StrCat("--retrieve_ns: '", part,
                       "' is not a positive integer (the exhaustive ranking, N = 0, is always "
                       "measured)"));
    }
    ns.push_back(static_cast<size_t>(n));
  }
  if (ns.empty()) {
    return absl::InvalidArgumentError("--retrieve_ns: give at least one N, e.g. 10,100,1000");
  }
  std::sort(ns.begin(), ns.end());
  ns.erase(std::unique(ns.begin(), ns.end()), ns.end());
  return ns;
}

absl::Status ValidateRetrievalOptions(const RetrievalOptions& options) {
  const SweepOptions& sweep = options.sweep;
  if (sweep.datasets.empty()) {
    return absl::InvalidArgumentError("--datasets is required (NAME=PATH,...)");
  }
  if (sweep.methods.empty()) return absl::InvalidArgumentError("--methods: no method given");
  for (const SweepMethod& method : sweep.methods) {
    if (method.popularity) {
      return absl::InvalidArgumentError(
          "--methods: popularity has no model, so nothing to rank in two stages");
    }
    if (method.compressed()) {
      if (sweep.ratios.empty()) {
        return absl::InvalidArgumentError(absl::StrCat(
            "--ratios: none given for the compressed user-ID method ", SweepMethodName(method)));
      }
      for (double ratio : sweep.ratios) {
        if (!(ratio >= 1)) {
          return absl::InvalidArgumentError(absl::StrCat("--ratios: ", ratio, " is below 1"));
        }
      }
    }
  }
  if (sweep.seeds < 1) {
    return absl::InvalidArgumentError(
        absl::StrCat("--seeds must be at least 1, got ", sweep.seeds));
  }
  if (sweep.base.threads < 1) {
    return absl::InvalidArgumentError(
        absl::StrCat("--threads must be at least 1, got ", sweep.base.threads));
  }
  if (options.retrieve_ns.empty()) {
    return absl::InvalidArgumentError("--retrieve_ns: give at least one N");
  }
  for (size_t i = 0; i < options.retrieve_ns.size(); ++i) {
    if (options.retrieve_ns[i] == 0 ||
        (i > 0 && options.retrieve_ns[i] <= options.retrieve_ns[i - 1])) {
      return absl::InvalidArgumentError(
          absl::StrCat("--retrieve_ns must be positive and increasing, got ",
                       absl::StrJoin(options.retrieve_ns, ",")));
    }
  }
  return absl::OkStatus();
}

std::string RetrievalLabel(const SweepMethod& method, double ratio) {
  return absl::StrCat(method.history ? "history " : "user-ID ", ConfigLabel(method, ratio));
}

std::string RetrievalCommand(const RetrievalOptions& options) {
  return absl::StrCat("build/experiments/ranker-experiments retrieval --datasets ",
                      DatasetsFlag(options.sweep), " --methods ",
                      SweepMethodNames(options.sweep.methods), " --retrieve_ns ",
                      absl::StrJoin(options.retrieve_ns, ","), ProtocolFlags(options.sweep),
                      " --out ", options.sweep.out_dir);
}

namespace {

absl::StatusOr<RetrievalModelResult> MeasureModel(const RetrievalOptions& options,
                                                  const Dataset& dataset,
                                                  const std::vector<Split>& splits,
                                                  const SweepMethod& method, double ratio) {
  RetrievalModelResult result;
  result.method = method;
  result.ratio = ratio;
  const std::string label = RetrievalLabel(method, ratio);
  const std::vector<size_t> ns = CurveNs(options.retrieve_ns, dataset.items());
  std::vector<SeedCurve> seeds;
  RETURN_IF_ERROR(TrainSeeds(
      options.sweep, dataset, splits, method, ratio,
      [&](int s, const TrainResult& best, float weight_decay) -> absl::Status {
        const auto start = std::chrono::steady_clock::now();
        ASSIGN_OR_RETURN(SeedCurve curve,
                         MeasureCurve(*best.model, dataset, splits[s - 1], ns,
                                      options.sweep.base.threads, options.sweep.base.max_history));
        std::string line;
        for (size_t p = 0; p < ns.size(); ++p) {
          absl::StrAppendFormat(&line, " N=%zu %.4f", ns[p], Mean(curve.ndcg[p]));
        }
        std::fprintf(
            stderr, "  [%s] %s seed %d (MLP %s): exhaustive nDCG@10 %.4f; two stages%s (%.1f s)\n",
            dataset.name.c_str(), label.c_str(), s, curve.mlp ? "in use" : "unused",
            Mean(curve.exhaustive_ndcg), line.c_str(),
            std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
        result.weight_decay = weight_decay;
        seeds.push_back(std::move(curve));
        return absl::OkStatus();
      }));
  result.curve = SummarizeCurve(seeds);
  const size_t within = SmallestWithin(result, /*whole_interval=*/false);
  LogInfo(absl::StrFormat("[%s] %s: exhaustive nDCG@10 %.4f; within %g%% from N = %zu",
                          dataset.name, label, result.curve.exhaustive.mean, kWithinPercent,
                          within));
  return result;
}

absl::StatusOr<RetrievalDatasetResult> MeasureDataset(const RetrievalOptions& options,
                                                      const std::string& name,
                                                      const std::string& path) {
  ASSIGN_OR_RETURN(Dataset dataset, ReadInteractions(path, LogFormat::kAuto, name));
  RetrievalDatasetResult out;
  out.name = dataset.name;
  out.users = dataset.users();
  out.items = dataset.items();
  out.interactions = dataset.interactions.size();
  const std::vector<Split> splits = SeedSplits(dataset, options.sweep.seeds);
  for (const SweepMethod& method : options.sweep.methods) {
    const std::vector<double> ratios = method.compressed() ? options.sweep.ratios
                                       : method.history    ? std::vector<double>{method.ratio}
                                                           : std::vector<double>{1};
    for (double ratio : ratios) {
      ASSIGN_OR_RETURN(RetrievalModelResult model,
                       MeasureModel(options, dataset, splits, method, ratio));
      out.models.push_back(std::move(model));
    }
  }
  return out;
}

}  // namespace

absl::Status RunRetrieval(const RetrievalOptions& options) {
  RETURN_IF_ERROR(ValidateRetrievalOptions(options));
  const auto start = std::chrono::steady_clock::now();
  const std::string& out_dir = options.sweep.out_dir;
  RETURN_IF_ERROR(CreateDirectories(out_dir));
  std::vector<RetrievalDatasetResult> results;
  for (const auto& [name, path] : options.sweep.datasets) {
    LogInfo("== ", name, " (", path, ")");
    ASSIGN_OR_RETURN(RetrievalDatasetResult result, MeasureDataset(options, name, path));
    results.push_back(std::move(result));
  }
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  const std::string dir = out_dir + "/";
  RETURN_IF_ERROR(WriteFileAtomically(dir + "results_retrieval.csv", RetrievalCsv(results)));
  RETURN_IF_ERROR(WriteFileAtomically(dir + "results_retrieval.gp", RetrievalPlotScript(results)));
  const absl::Status plot = RunProgram(out_dir, {"gnuplot", "results_retrieval.gp"});
  if (!plot.ok()) {
    LogWarning("no results_retrieval.png (", plot.ToString(), "); ", dir,
               "results_retrieval.gp is left for you to run");
  }
  RETURN_IF_ERROR(WriteFileAtomically(dir + "results_retrieval.md",
                                      RetrievalMarkdown(options, results, ThisMachine(), seconds,
                                                        RetrievalCommand(options), plot.ok())));
  LogInfo(absl::StrFormat("retrieval done in %.1f min: %sresults_retrieval.md, .csv%s",
                          seconds / 60, dir, plot.ok() ? ", .png" : ""));
  return absl::OkStatus();
}

}  // namespace ranker
