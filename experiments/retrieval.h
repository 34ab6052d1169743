// `ranker-experiments retrieval`: how much two stages (retrieval by the
// dot-product term, then the RankNet scorer over the kept N) lose against the exhaustive
// ranking. Per dataset and seed, each model is trained once exactly as the sweep trains it
// (TrainSeeds: same splits, hyper-parameters and weight-decay search) and measured on the test
// split at every N (retrieval_curve.h). Writes results_retrieval.md (which `ranker-experiments
// sweep` includes in results.md), results_retrieval.csv, results_retrieval.gp and, with gnuplot,
// results_retrieval.png into out_dir; progress goes to stderr.
#ifndef RANKER_EXPERIMENTS_RETRIEVAL_H_
#define RANKER_EXPERIMENTS_RETRIEVAL_H_

#include <cstddef>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "experiments/retrieval_curve.h"
#include "experiments/sweep.h"
#include "experiments/sweep_method.h"

namespace ranker {

// The models measured by default: the default history model (memcom 16x input, full output),
// the compressed-output one (memcom 16x both: stage 1 runs in the compressed domain), and the
// user-ID full and memcom (at each of sweep.ratios) models.
std::vector<SweepMethod> DefaultRetrievalMethods();

struct RetrievalOptions {
  // The training protocol, as the sweep's (datasets, seeds, weight-decay grids, base training
  // options, out_dir); `methods` are the models measured (popularity has none), `ratios` the
  // target ratios of compressed user-ID methods.
  SweepOptions sweep = [] {
    SweepOptions s;
    s.methods = DefaultRetrievalMethods();
    s.ratios = {16};
    return s;
  }();
  // Stage 1's sizes, increasing; each dataset also gets its catalogue size as the last N.
  std::vector<size_t> retrieve_ns = {10, 20, 50, 100, 200, 500, 1000, 2000, 5000};
};

// --retrieve_ns: comma-separated positive integers, sorted and deduplicated. INVALID_ARGUMENT
// naming the bad entry, or for an empty list.
absl::StatusOr<std::vector<size_t>> ParseRetrieveNs(absl::string_view text);

// INVALID_ARGUMENT with what is wrong: no dataset, no method or popularity among them, seeds or
// threads below 1, an N of 0 or Ns not increasing, no ratio (or one below 1) for a compressed
// user-ID method.
absl::Status ValidateRetrievalOptions(const RetrievalOptions& options);

// One measured model on one dataset.
struct RetrievalModelResult {
  SweepMethod method;
  double ratio = 1;  // a compressed user-ID method's target ratio; else as the method says
  float weight_decay = 0;
  ModelCurve curve;
};

struct RetrievalDatasetResult {
  std::string name;
  size_t users = 0, items = 0, interactions = 0;
  std::vector<RetrievalModelResult> models;  // in options' method (then ratio) order
};

// "history memcom 16x / full", "user-ID memcom 16x": the sweep's label with the user mode.
std::string RetrievalLabel(const SweepMethod& method, double ratio);

// The command line that repeats the run, for the report.
std::string RetrievalCommand(const RetrievalOptions& options);

// Validates, trains and measures, then writes the files. Errors: invalid options, unreadable
// datasets, failed training, the one-stage check of MeasureCurve, and any output file that
// cannot be written (naming the path). A failed plot is only a warning on stderr (the report
// then has no picture).
absl::Status RunRetrieval(const RetrievalOptions& options);

}  // namespace ranker

#endif  // RANKER_EXPERIMENTS_RETRIEVAL_H_
