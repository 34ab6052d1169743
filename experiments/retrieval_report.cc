#include "experiments/retrieval_report.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "experiments/sweep_stats.h"

namespace ranker {
namespace {

bool Within(const CurvePoint& point, bool whole_interval) {
  const double low = whole_interval ? point.relative - 1.96 * point.relative_se : point.relative;
  return low >= -kWithinPercent;
}

std::string NText(size_t n, size_t catalogue) {
  return n >= catalogue ? absl::StrCat(n, " (catalogue: one stage)") : absl::StrCat(n);
}

void AppendSummary(const std::vector<RetrievalDatasetResult>& results, std::string* md) {
  absl::StrAppendFormat(md,
                        "**Smallest N within %g%%** (two-stage nDCG@10 at most %g%% below the "
                        "exhaustive, at that N and at every larger N measured, on every set; in "
                        "brackets the same with the whole 95%% interval of the difference):\n\n",
                        kWithinPercent, kWithinPercent);
  size_t all = 0, all_strict = 0;
  for (size_t m = 0; m < results[0].models.size(); ++m) {
    const std::optional<size_t> n = SmallestWithinOnAll(results, m, false);
    const std::optional<size_t> strict = SmallestWithinOnAll(results, m, true);
    if (!n || !strict) continue;
    all = std::max(all, *n);
    all_strict = std::max(all_strict, *strict);
    std::vector<std::string> per_set;
    for (const RetrievalDatasetResult& r : results) {
      if (m >= r.models.size()) continue;
      const ModelCurve& c = r.models[m].curve;
      per_set.push_back(absl::StrCat(r.name, ": ", SmallestWithin(r.models[m], false), " [",
                                     SmallestWithin(r.models[m], true), "], MLP in use in ",
                                     c.mlp_seeds, " of ", c.seed_exhaustive.size(), " seeds"));
    }
    const RetrievalModelResult& model = results[0].models[m];
    absl::StrAppend(md, "- ", RetrievalLabel(model.method, model.ratio), ": N = ", *n, " [",
                    *strict, "] (", absl::StrJoin(per_set, "; "), ")\n");
  }
  absl::StrAppend(md, "- every model above: **N = ", all, "** [", all_strict,
                  "]: from it on, every model measured is within ", kWithinPercent,
                  "% on every set\n\n");
  std::vector<std::string> gains;
  for (const RetrievalDatasetResult& r : results) {
    for (const RetrievalModelResult& model : r.models) {
      for (const CurvePoint& point : model.curve.points) {
        if (point.relative > kWithinPercent) {
          gains.push_back(absl::StrFormat("%s, %s, N = %zu (%+.1f%%)", r.name,
                                          RetrievalLabel(model.method, model.ratio), point.n,
                                          point.relative));
        }
      }
    }
  }
  if (!gains.empty()) {
    absl::StrAppend(md, "Two stages beat the exhaustive ranking by more than ", kWithinPercent,
                    "% at: ", absl::StrJoin(gains, "; "), ".\n\n");
  }
}

std::string MlpText(const ModelCurve& c) {
  const size_t seeds = c.seed_exhaustive.size();
  if (c.mlp_seeds == 0) {
    return "The served scorer never uses its MLP here: it orders items as stage 1 does, so two "
           "stages keep its top 10 at any N >= 10 (up to float rounding).";
  }
  return absl::StrCat("The served scorer uses its MLP in ", c.mlp_seeds, " of ", seeds,
                      static_cast<size_t>(c.mlp_seeds) < seeds
                          ? " seeds (in the others it ranks as the dot product alone)."
                          : " seeds.");
}

void AppendModelTable(const RetrievalDatasetResult& r, const RetrievalModelResult& model,
                      std::string* md) {
  const ModelCurve& c = model.curve;
  absl::StrAppendFormat(
      md,
      "#### %s on %s\n\nExhaustive nDCG@10 %.4f ± %.4f (seeds %.4f–%.4f; weight decay %.0e). "
      "%s\n\n",
      RetrievalLabel(model.method, model.ratio), r.name, c.exhaustive.mean, c.exhaustive.stderr_,
      Min(c.seed_exhaustive), Max(c.seed_exhaustive), model.weight_decay, MlpText(c));
  absl::StrAppend(md,
                  "| N | nDCG@10, two stages | rel. diff vs exhaustive | recall of the "
                  "exhaustive top 10 in stage 1 |\n",
                  "|---|---|---|---|\n");
  for (const CurvePoint& p : c.points) {
    absl::StrAppendFormat(md, "| %s | %.4f ± %.4f | %+.2f%% ± %.2f%% | %.3f ± %.3f |\n",
                          NText(p.n, r.items), p.ndcg.mean, p.ndcg.stderr_, p.relative,
                          p.relative_se, p.recall.mean, p.recall.stderr_);
  }
  md->append("\n");
}

}  // namespace

size_t SmallestWithin(const RetrievalModelResult& result, bool whole_interval) {
  const std::vector<CurvePoint>& points = result.curve.points;
  size_t smallest = points.empty() ? 0 : points.back().n;
  for (size_t p = points.size(); p-- > 0;) {
    if (!Within(points[p], whole_interval)) break;
    smallest = points[p].n;
  }
  return smallest;
}

std::optional<size_t> SmallestWithinOnAll(const std::vector<RetrievalDatasetResult>& results,
                                          size_t index, bool whole_interval) {
  std::optional<size_t> largest;
  for (const RetrievalDatasetResult& r : results) {
    if (index >= r.models.size()) return std::nullopt;
    const size_t n = SmallestWithin(r.models[index], whole_interval);
    largest = std::max(largest.value_or(0), n);
  }
  return largest;
}

std::string RetrievalMarkdown(const RetrievalOptions& options,
                              const std::vector<RetrievalDatasetResult>& results,
                              const MachineInfo& machine, double seconds,
                              const std::string& command, bool plot) {
  std::string md = absl::StrCat(
      "Produced by one command (", absl::StrFormat("%.0f", seconds / 60), " minutes on ",
      DescribeMachine(machine), ", ", machine.date, "):\n\n```sh\n", command, "\n```\n\n",
      "Each model is trained as the sweep trains it (same splits, ", options.sweep.seeds,
      options.sweep.seeds == 1 ? " seed" : " seeds",
      ", hyper-parameters and weight-decay search, so its exhaustive figure is the sweep's), "
      "then ranks the test split through `Model::Rank` with every item the user is known to "
      "have excluded in the query. *Exhaustive*: one stage, the RankNet scorer (MLP + dot) "
      "over the whole catalogue (`retrieve_n = 0`). *Two stages at N*: stage 1 keeps the N "
      "items with the best dot-product term u . e_i, computed in the output table's "
      "compressed domain (`model/table_dot.h`), and stage 2 ranks those with the scorer. "
      "*rel. diff* = (two stages - exhaustive) nDCG@10 / exhaustive nDCG@10, paired over "
      "users (each user's values averaged over the seeds), ± its standard error; *recall of "
      "the exhaustive top 10* = the share of the exhaustive top 10 that stage 1 keeps among "
      "its N (the items Rank returns with k = N), mean ± standard error over users. The last "
      "row of each table, N = the catalogue, is one stage: the run checks that it gives every "
      "user of every seed exactly the exhaustive nDCG@10. *MLP in use*: the trainer keeps the "
      "best validation epoch of two phases, the dot product alone and then the MLP on top "
      "(`trainer/trainer.h`); when that epoch is in the first phase, the served MLP's output "
      "layer is zero, the scorer ranks as the dot product alone, and two stages keep the "
      "exhaustive top 10 at every N >= 10 by construction (up to float rounding).\n\n");
  if (plot) {
    md += "![two-stage nDCG@10 and recall against N](results_retrieval.png)\n\n";
  }
  if (!results.empty()) AppendSummary(results, &md);
  for (const RetrievalDatasetResult& r : results) {
    absl::StrAppend(&md, "### ", r.name, " (", r.users, " users, ", r.items, " items, ",
                    r.interactions, " interactions)\n\n");
    for (const RetrievalModelResult& model : r.models) AppendModelTable(r, model, &md);
  }
  return md;
}

std::string RetrievalCsv(const std::vector<RetrievalDatasetResult>& results) {
  std::string csv =
      "dataset,method,ratio,catalogue,users,seeds,mlp_seeds,retrieve_n,ndcg_two_stages,"
      "ndcg_two_stages_se,ndcg_exhaustive,ndcg_exhaustive_se,difference,difference_se,"
      "relative_difference_percent,relative_difference_se_percent,"
      "recall_exhaustive_top10,recall_exhaustive_top10_se\n";
  for (const RetrievalDatasetResult& r : results) {
    for (const RetrievalModelResult& model : r.models) {
      const ModelCurve& c = model.curve;
      for (const CurvePoint& p : c.points) {
        absl::StrAppendFormat(&csv,
                              "%s,%s,%g,%zu,%zu,%zu,%d,%zu,%.6f,%.6f,%.6f,%.6f,%.6f,%.6f,%.4f,%.4f,"
                              "%.6f,%.6f\n",
                              r.name, SweepMethodName(model.method), model.ratio, r.items, p.ndcg.n,
                              c.seed_exhaustive.size(), c.mlp_seeds, p.n, p.ndcg.mean,
                              p.ndcg.stderr_, c.exhaustive.mean, c.exhaustive.stderr_,
                              p.difference.mean, p.difference.stderr_, p.relative, p.relative_se,
                              p.recall.mean, p.recall.stderr_);
      }
    }
  }
  return csv;
}

std::string RetrievalPlotScript(const std::vector<RetrievalDatasetResult>& results) {
  const size_t columns = std::max<size_t>(1, results.size());
  std::string gp = absl::StrCat(
      "# Generated by ranker-experiments retrieval; run: gnuplot results_retrieval.gp\n",
      "set terminal pngcairo size ", 640 * columns, ",900 font 'sans,10'\n",
      "set termoption noenhanced\nset output 'results_retrieval.png'\n", "set multiplot layout 2,",
      columns, "\nset logscale x 10\nset grid\nset key font 'sans,8'\n",
      "set xlabel 'N (stage 1 keeps the best N by u . e_i; last point: the catalogue)'\n");
  for (size_t d = 0; d < results.size(); ++d) {
    const RetrievalDatasetResult& r = results[d];
    for (size_t m = 0; m < r.models.size(); ++m) {
      absl::StrAppend(&gp, "$d", d, "_", m, " << EOD\n");
      for (const CurvePoint& p : r.models[m].curve.points) {
        absl::StrAppend(&gp, p.n, " ", p.ndcg.mean, " ", p.recall.mean, "\n");
      }
      gp += "EOD\n";
    }
  }
  // Row 1: nDCG@10, each model's exhaustive level dashed in its colour. Row 2: recall.
  for (int row = 0; row < 2; ++row) {
    gp += row == 0 ? "set ylabel 'test nDCG@10'\nset autoscale y\nset key right center\n"
                   : "set ylabel 'recall of the exhaustive top 10 in stage 1'\n"
                     "set key bottom right\n"
                     "set yrange [*:1.02]\n";
    for (size_t d = 0; d < results.size(); ++d) {
      const RetrievalDatasetResult& r = results[d];
      std::vector<std::string> parts;
      for (size_t m = 0; m < r.models.size(); ++m) {
        const RetrievalModelResult& model = r.models[m];
        const std::string label = RetrievalLabel(model.method, model.ratio);
        parts.push_back(absl::StrCat("$d", d, "_", m, " using 1:", row == 0 ? 2 : 3,
                                     " with linespoints lc ", m + 1, " pt ", 5 + m, " title '",
                                     label, "'"));
        if (row == 0) {
          parts.push_back(absl::StrFormat("%f with lines dashtype 2 lc %zu %s",
                                          model.curve.exhaustive.mean, m + 1,
                                          m == 0 ? "title 'exhaustive (dashed)'" : "notitle"));
        }
      }
      absl::StrAppendFormat(&gp, "set xrange [8:%f]\nset title '%s: %s'\nplot %s\n",
                            static_cast<double>(r.items) * 1.3, r.name,
                            row == 0 ? "nDCG@10, two stages" : "stage 1 recall",
                            absl::StrJoin(parts, ", \\\n     "));
    }
  }
  return gp + "unset multiplot\n";
}

}  // namespace ranker
