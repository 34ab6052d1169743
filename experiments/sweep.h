// The method comparison: popularity, user-ID models (uncompressed MLP+dot
// and plain dot, every compressed kind at each ratio) and history models (each with its own
// input and output tables), over several seeds per dataset; writes results.md (tables, paired
// comparisons, the history models' targets), results.csv (every run) and results.png (gnuplot).
// results.md includes `results_findings.md` from out_dir, when present, at the top of the
// history part: hand-written prose about the numbers survives a re-run; and
// `results_retrieval.md` (what `ranker-experiments retrieval` wrote) at the end.
#ifndef RANKER_EXPERIMENTS_SWEEP_H_
#define RANKER_EXPERIMENTS_SWEEP_H_

#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "experiments/sweep_method.h"
#include "trainer/trainer.h"

namespace ranker {

struct SweepOptions {
  std::vector<std::pair<std::string, std::string>> datasets;  // name, path
  std::vector<double> ratios = {4, 16, 64};
  // Popularity is always the first row; listing it changes nothing.
  std::vector<SweepMethod> methods = DefaultSweepMethods();
  int seeds = 3;
  std::string out_dir = "docs";
  // Weight decays tried per configuration on seed 1's validation split (never on test); the
  // best is used for every seed. The plain dot product overfits less, hence its own grid.
  // An empty grid means no search: every run uses base.weight_decay.
  std::vector<float> weight_decay_grid = {1e-4f, 1e-3f};
  std::vector<float> dot_weight_decay_grid = {1e-5f, 1e-4f};
  // History models: one value by default (no search), to keep the sweep's time down; 1e-4 is
  // what the search chose for the full user-ID models on both MovieLens sets.
  std::vector<float> history_weight_decay_grid = {1e-4f};
  TrainOptions base;  // kind, ratio, scorer, seed and (when searched) weight_decay set per run
};

// The flags that repeat options' training protocol, for the commands in reports: " --seeds S
// --ratios R --threads T", then --history_weight_decays, --max_history and --weight_decay where
// they are not the defaults. DatasetsFlag is --datasets' value (NAME=PATH,...).
std::string ProtocolFlags(const SweepOptions& options);
std::string DatasetsFlag(const SweepOptions& options);

// Errors: unreadable datasets, failed training, and any output file that cannot be written
// (the status names the path). A failed plot is only a warning on stderr.
absl::Status RunSweep(const SweepOptions& options);

}  // namespace ranker

#endif  // RANKER_EXPERIMENTS_SWEEP_H_
