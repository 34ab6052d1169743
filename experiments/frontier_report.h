// The frontier's outputs: frontier.md (per data set, every point with its bytes per item,
// whole-model ratio, nDCG@10 and paired relative loss against the full model, the Pareto front
// marked, and the budget goals met or not), frontier.csv (one row per point) and
// frontier.gp (gnuplot: nDCG@10 against bytes per item, log scale, error bars, front drawn).
#ifndef RANKER_EXPERIMENTS_FRONTIER_REPORT_H_
#define RANKER_EXPERIMENTS_FRONTIER_REPORT_H_

#include <string>
#include <vector>

#include "experiments/frontier.h"
#include "trainer/ranking_metrics.h"

namespace ranker {

// Relative nDCG@10 loss of `point` against the data set's reference (its first point), paired
// over users: mean and standard error of (ref - point) / mean(ref).
MeanStdErr RelativeLoss(const FrontierDataset& dataset, const FrontierPoint& point);

// Indices of the points on the Pareto front (no other point has fewer bytes and a higher
// nDCG@10), by increasing bytes.
std::vector<size_t> ParetoFront(const FrontierDataset& dataset);

// The point to serve for a whole-model ratio of at least `ratio` (0.1% below counts: sizing
// rounds rows): the best nDCG@10 among those that reach it; -1 if none does. `served_only`:
// among points the server can serve today (not the emulated codecs, whose family says so).
int BestAtRatio(const FrontierDataset& dataset, double ratio, bool served_only = false);
// Whether the server can serve the point's codec today.
bool IsServed(const FrontierPoint& point);

std::string FrontierMarkdown(const std::vector<FrontierDataset>& results,
                             const std::string& command, const std::string& machine,
                             const std::string& findings);
std::string FrontierCsv(const std::vector<FrontierDataset>& results);
std::string FrontierPlot(const std::vector<FrontierDataset>& results);

}  // namespace ranker

#endif  // RANKER_EXPERIMENTS_FRONTIER_REPORT_H_
