// Orchestrates the sweep: the grid (sweep_run), the report (sweep_report) and the plot
// (sweep_plot), each writing into options.out_dir.
#include "experiments/sweep.h"

#include <chrono>
#include <cstdio>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "common/files.h"
#include "common/log.h"
#include "common/run_program.h"
#include "common/status_macros.h"
#include "experiments/sweep_plot.h"
#include "experiments/sweep_report.h"
#include "experiments/sweep_run.h"

namespace ranker {
namespace {

// The command line that repeats the sweep, for the report.
std::string SweepCommand(const SweepOptions& options) {
  return absl::StrCat("build/experiments/ranker-experiments sweep --datasets ",
                      DatasetsFlag(options), " --methods ", SweepMethodNames(options.methods),
                      ProtocolFlags(options), " --out ", options.out_dir);
}

// The text of `path`, or "" when there is none (optional parts of the report).
std::string ReadOptional(const std::string& path) {
  absl::StatusOr<std::string> text = ReadFileToString(path, "report part");
  return text.ok() ? *std::move(text) : "";
}

}  // namespace

std::string DatasetsFlag(const SweepOptions& options) {
  std::vector<std::string> datasets;
  for (const auto& [name, path] : options.datasets) datasets.push_back(name + "=" + path);
  return absl::StrJoin(datasets, ",");
}

std::string ProtocolFlags(const SweepOptions& options) {
  std::string flags =
      absl::StrCat(" --seeds ", options.seeds, " --ratios ", absl::StrJoin(options.ratios, ","),
                   " --threads ", options.base.threads);
  if (options.history_weight_decay_grid != SweepOptions().history_weight_decay_grid &&
      !options.history_weight_decay_grid.empty()) {
    absl::StrAppend(&flags, " --history_weight_decays ",
                    absl::StrJoin(options.history_weight_decay_grid, ","));
  }
  if (options.base.max_history != kDefaultMaxHistory) {
    absl::StrAppend(&flags, " --max_history ", options.base.max_history);
  }
  if (options.weight_decay_grid.empty() && options.dot_weight_decay_grid.empty() &&
      options.history_weight_decay_grid.empty()) {
    absl::StrAppendFormat(&flags, " --weight_decay %g", options.base.weight_decay);
  }
  return flags;
}

absl::Status RunSweep(const SweepOptions& options) {
  const auto start = std::chrono::steady_clock::now();
  RETURN_IF_ERROR(CreateDirectories(options.out_dir));
  const std::string dir = options.out_dir + "/";
  ASSIGN_OR_RETURN(const std::vector<DatasetResult> results, RunGrid(options, dir + "results.csv"));
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  RETURN_IF_ERROR(WriteFileAtomically(
      dir + "results.md",
      ReportMarkdown(options, results, ThisMachine(), seconds, SweepCommand(options),
                     ReadOptional(dir + "results_findings.md"),
                     ReadOptional(dir + "results_retrieval.md"))));
  RETURN_IF_ERROR(WriteFileAtomically(dir + "results.gp", PlotScript(results)));
  // The numbers are in results.md and results.csv already; a missing gnuplot costs only the
  // picture, which the user can still draw from results.gp.
  const absl::Status plot = RunProgram(options.out_dir, {"gnuplot", "results.gp"});
  if (!plot.ok()) {
    LogWarning("no results.png (", plot.ToString(), "); ", dir,
               "results.gp is left for you to run");
  }
  LogInfo(absl::StrFormat("sweep done in %.1f min: %sresults.md, results.csv%s", seconds / 60, dir,
                          plot.ok() ? ", results.png" : ""));
  return absl::OkStatus();
}

}  // namespace ranker
