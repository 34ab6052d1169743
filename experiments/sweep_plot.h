// results.gp: nDCG@10 against compression ratio, one panel per dataset, and a second row of
// panels for history models when there are any. The sweep writes it and runs gnuplot on it
// (common/run_program.h).
#ifndef RANKER_EXPERIMENTS_SWEEP_PLOT_H_
#define RANKER_EXPERIMENTS_SWEEP_PLOT_H_

#include <string>
#include <vector>

#include "experiments/sweep_run.h"

namespace ranker {

// The gnuplot script; it draws results.png in its working directory.
std::string PlotScript(const std::vector<DatasetResult>& results);

}  // namespace ranker

#endif  // RANKER_EXPERIMENTS_SWEEP_PLOT_H_
