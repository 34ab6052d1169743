// results.md: how the sweep was run (command, protocol, this machine as read at run time) and,
// per dataset, a table of every configuration and paired comparisons between methods.
// Pure text; sweep.cc writes the file.
#ifndef RANKER_EXPERIMENTS_SWEEP_REPORT_H_
#define RANKER_EXPERIMENTS_SWEEP_REPORT_H_

#include <cstdint>
#include <string>
#include <vector>

#include "experiments/machine_info.h"
#include "experiments/sweep.h"
#include "experiments/sweep_run.h"

namespace ranker {

// `findings` (markdown, may be empty) opens the history part, which is written only when some
// result has history rows. `retrieval` (markdown, may be empty: results_retrieval.md) is the
// last section, under kRetrievalHeading, when not empty.
std::string ReportMarkdown(const SweepOptions& options, const std::vector<DatasetResult>& results,
                           const MachineInfo& machine, double seconds, const std::string& command,
                           const std::string& findings = "", const std::string& retrieval = "");
inline constexpr char kRetrievalHeading[] = "## Two stages: retrieval then RankNet\n\n";

// The history models' targets on one dataset's history rows (those whose rows are missing are
// left out): 1 history beats user ID, 2 MEmCom 16x input within 5%, 3 MEmCom against hash and
// QR, 4 both tables compressed.
struct GoalResult {
  int goal;          // 1 to 4
  std::string what;  // e.g. "memcom vs hash at 16x input"; the same on every set
  std::string text;  // the numbers and the verdict
  bool met = false;
  bool worse = false;  // goal 3: memcom worse by > 2 SE
};
std::vector<GoalResult> HistoryGoals(const DatasetResult& result);

}  // namespace ranker

#endif  // RANKER_EXPERIMENTS_SWEEP_REPORT_H_
