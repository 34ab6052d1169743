// results.gp (nDCG@10 against compression ratio, one panel per dataset, and a second row of
// panels for history models when there are any) and running gnuplot on
// it in out_dir without a shell. Errors name the path or program; RunPlot forks, so call it
// when no other thread is changing the process (the sweep's trainers have finished).
#ifndef RANKER_TRAINER_SWEEP_PLOT_H_
#define RANKER_TRAINER_SWEEP_PLOT_H_

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "trainer/sweep_run.h"

namespace ranker {

// The gnuplot script; it draws results.png in its working directory.
std::string PlotScript(const std::vector<DatasetResult>& results);

// Runs `program script` with `dir` as working directory and waits for it. NOT_FOUND if the
// program (or dir) does not exist, UNAVAILABLE if it cannot be started otherwise, INTERNAL
// with the exit code or signal if it fails.
absl::Status RunPlot(const std::string& dir, const std::string& script = "results.gp",
                     const std::string& program = "gnuplot");

}  // namespace ranker

#endif  // RANKER_TRAINER_SWEEP_PLOT_H_
