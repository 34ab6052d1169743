// What `ranker-experiments retrieval` writes: results_retrieval.md (a section that results.md
// includes under kRetrievalHeading, so it has no title of its own), results_retrieval.csv and
// the gnuplot script of results_retrieval.png. Pure functions of the results.
#ifndef RANKER_EXPERIMENTS_RETRIEVAL_REPORT_H_
#define RANKER_EXPERIMENTS_RETRIEVAL_REPORT_H_

#include <cstddef>
#include <optional>
#include <string>
#include <vector>

#include "experiments/retrieval.h"
#include "experiments/sweep_report.h"

namespace ranker {

// The target: two stages lose at most this much nDCG@10 (percent of the exhaustive figure).
constexpr double kWithinPercent = 1;

// The smallest N measured on `result` from which every measured N (the catalogue included) is
// within kWithinPercent: on the point estimate, or, when `whole_interval`, with the relative
// difference's 95% interval (- 1.96 SE) above -kWithinPercent too. A gain counts as within.
size_t SmallestWithin(const RetrievalModelResult& result, bool whole_interval);

// The same on every dataset for the model at `index` in each dataset's list: the largest of
// the datasets' SmallestWithin (from it on, every N measured on every set is within).
// nullopt when results is empty.
std::optional<size_t> SmallestWithinOnAll(const std::vector<RetrievalDatasetResult>& results,
                                          size_t index, bool whole_interval);

// `plot`: whether results_retrieval.png was drawn (the section shows it only then).
std::string RetrievalMarkdown(const RetrievalOptions& options,
                              const std::vector<RetrievalDatasetResult>& results,
                              const MachineInfo& machine, double seconds,
                              const std::string& command, bool plot);

// Header, then one row per dataset, model and N.
std::string RetrievalCsv(const std::vector<RetrievalDatasetResult>& results);

// Draws results_retrieval.png in its working directory: per dataset, nDCG@10 against N (log x)
// with each model's exhaustive level dashed, and below it the recall of the exhaustive top 10.
std::string RetrievalPlotScript(const std::vector<RetrievalDatasetResult>& results);

}  // namespace ranker

#endif  // RANKER_EXPERIMENTS_RETRIEVAL_REPORT_H_
