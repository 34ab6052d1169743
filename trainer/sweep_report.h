// results.md: how the sweep was run (command, protocol, this machine as read at run time) and,
// per dataset, a table of every configuration and paired comparisons between methods.
// Only reads (the machine's /proc and /etc files); sweep.cc writes the file.
#ifndef RANKER_TRAINER_SWEEP_REPORT_H_
#define RANKER_TRAINER_SWEEP_REPORT_H_

#include <cstdint>
#include <string>
#include <vector>

#include "trainer/sweep.h"
#include "trainer/sweep_run.h"

namespace ranker {

struct MachineInfo {
  std::string cpu;            // /proc/cpuinfo "model name" ("unknown CPU" if absent)
  unsigned threads = 0;       // std::thread::hardware_concurrency()
  uint64_t memory_bytes = 0;  // /proc/meminfo MemTotal (0 if unknown)
  std::string os;             // /etc/os-release PRETTY_NAME ("unknown OS" if absent)
  std::string date;           // UTC, YYYY-MM-DD
};

MachineInfo ThisMachine();
// e.g. "AMD EPYC 7B13, 2 hardware threads, 7.8 GiB memory, Debian GNU/Linux 12 (bookworm)".
std::string DescribeMachine(const MachineInfo& machine);

// `findings` (markdown, may be empty) opens the history part, which is written only when some
// result has history rows. `retrieval` (markdown, may be empty: results_retrieval.md) is the
// last section, under kRetrievalHeading, when not empty.
std::string ReportMarkdown(const SweepOptions& options, const std::vector<DatasetResult>& results,
                           const MachineInfo& machine, double seconds, const std::string& command,
                           const std::string& findings = "", const std::string& retrieval = "");
inline constexpr char kRetrievalHeading[] = "## Two stages: retrieval then RankNet (issue 13)\n\n";

// Issue 12's goals on one dataset's history rows (those whose rows are missing are left out).
struct GoalResult {
  int goal;          // 1 to 4
  std::string what;  // e.g. "memcom vs hash at 16x input"; the same on every set
  std::string text;  // the numbers and the verdict
  bool met = false;
  bool worse = false;  // goal 3: memcom worse by > 2 SE
};
std::vector<GoalResult> HistoryGoals(const DatasetResult& result);

}  // namespace ranker

#endif  // RANKER_TRAINER_SWEEP_REPORT_H_
