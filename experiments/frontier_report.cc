#include "experiments/frontier_report.h"

#include <algorithm>
#include <cmath>
#include <set>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_replace.h"

namespace ranker {
namespace {

constexpr double kZ95 = 1.96;
// Sizing rounds a table's rows to whole numbers: memcom "16x" is 15.995x on ml-latest-small.
constexpr double kRatioTolerance = 0.001;

struct Goal {
  double ratio, max_loss;
  const char* name;
};
constexpr Goal kGoals[] = {
    {16, 0.05, "1: >= 16x at <= 5%"},
    {32, 0.10, "2: >= 32x at <= 10%"},
    {64, 0.20, "2 (stretch): >= 64x at <= 20%"},
};

double BytesPerItem(const FrontierDataset& dataset, const FrontierPoint& point) {
  return dataset.items > 0 ? point.table_bytes / static_cast<double>(dataset.items) : 0;
}

std::string Percent(double x) { return absl::StrFormat("%.1f%%", 100 * x); }

}  // namespace

MeanStdErr RelativeLoss(const FrontierDataset& dataset, const FrontierPoint& point) {
  const FrontierPoint& reference = dataset.points.front();
  const MeanStdErr diff = PairedDifference(reference.metrics.user_ndcg, point.metrics.user_ndcg);
  const double base = reference.metrics.ndcg.mean;
  MeanStdErr loss;
  loss.n = diff.n;
  if (base > 0) {
    loss.mean = diff.mean / base;
    loss.stderr_ = diff.stderr_ / base;
  }
  return loss;
}

std::vector<size_t> ParetoFront(const FrontierDataset& dataset) {
  std::vector<size_t> order(dataset.points.size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::sort(order.begin(), order.end(), [&](size_t a, size_t b) {
    return dataset.points[a].table_bytes < dataset.points[b].table_bytes;
  });
  std::vector<size_t> front;
  double best = -1;
  for (size_t i : order) {
    if (dataset.points[i].metrics.ndcg.mean > best) {
      best = dataset.points[i].metrics.ndcg.mean;
      front.push_back(i);
    }
  }
  return front;
}

bool IsServed(const FrontierPoint& point) {
  return point.family.find("emulated") == std::string::npos;
}

int BestAtRatio(const FrontierDataset& dataset, double ratio, bool served_only) {
  int best = -1;
  for (size_t i = 0; i < dataset.points.size(); ++i) {
    const FrontierPoint& point = dataset.points[i];
    if (point.whole_ratio < ratio * (1 - kRatioTolerance)) continue;
    if (served_only && !IsServed(point)) continue;
    if (best < 0 || point.metrics.ndcg.mean > dataset.points[best].metrics.ndcg.mean) {
      best = static_cast<int>(i);
    }
  }
  return best;
}

std::string FrontierMarkdown(const std::vector<FrontierDataset>& results,
                             const std::string& command, const std::string& machine,
                             const std::string& findings) {
  std::string md = "# The quality-memory frontier of history models\n\n";
  double seconds = 0;
  for (const FrontierDataset& dataset : results) seconds += dataset.seconds;
  absl::StrAppend(&md, "Produced by one command (", absl::StrFormat("%.0f", seconds / 60),
                  " minutes on ", machine, "):\n\n```sh\n", command, "\n```\n\n");
  absl::StrAppend(
      &md,
      "Every point is a history model (the user is the mean of the input table's rows over "
      "their most recent items, scored against the output table) with the same scorer and "
      "training protocol as the reference, the **full float32 model** (first row), whose weight "
      "decay is searched on seed 1's validation split. Points marked *encoded* are the "
      "reference's trained tables encoded after training (no fine-tuning): int8 with a scale "
      "per row, or product quantisation `pq<M>x<bits>` (M sub-vectors per row, each a 4- or "
      "8-bit code into a k-means codebook; `A/B` = input table A, output table B); the others "
      "are trained compressed (memcom, hash: `input / output`). **Bytes** are the two item "
      "tables' resident bytes as the server holds them (rows, per-item weights, codes, "
      "codebooks, scales, retrieval row indexes; the id maps, which every model of the "
      "catalogue needs, and the scorer are not counted); **ratio** = 2 n d 4 bytes of the full "
      "tables / those bytes. Loss = relative nDCG@10 loss against the reference, paired over "
      "users, with its 95% interval. nDCG@10 ranks the full catalogue minus the user's known "
      "items on the test split (per user, in time order: last 20% test, 10% before it "
      "validation). `*` marks the Pareto front (no point with fewer bytes ranks better). A goal's "
      "\"best\" is the point with the highest nDCG@10 among those within 0.1% of its ratio or "
      "above (sizing rounds rows to whole numbers). Points marked *fine-tuned* are the full model "
      "trained again with the codec and then fine-tuned with its codes fixed "
      "(`--pq_finetune_epochs`).\n\n");
  if (!findings.empty()) absl::StrAppend(&md, findings, "\n\n");
  absl::StrAppend(&md, "![nDCG@10 against bytes per item](frontier.png)\n\n");
  absl::StrAppend(&md, "## Budget goals: the smallest whole model within a loss\n\n");
  for (const Goal& goal : kGoals) {
    absl::StrAppend(&md, "- Goal ", goal.name, ":\n");
    for (const FrontierDataset& dataset : results) {
      const int best = BestAtRatio(dataset, goal.ratio);
      if (best < 0) {
        absl::StrAppend(&md, "  - ", dataset.name, ": no point reaches ", goal.ratio, "x\n");
        continue;
      }
      const auto line = [&](const FrontierPoint& point, absl::string_view what) {
        const MeanStdErr loss = RelativeLoss(dataset, point);
        const bool met = loss.mean <= goal.max_loss;
        const bool interval = loss.mean + kZ95 * loss.stderr_ <= goal.max_loss;
        return absl::StrCat(
            what, point.label, " (", absl::StrFormat("%.1fx", point.whole_ratio), "), loss ",
            Percent(loss.mean), " (95% CI ", Percent(loss.mean - kZ95 * loss.stderr_), " to ",
            Percent(loss.mean + kZ95 * loss.stderr_), "): ",
            met ? (interval ? "**met**"
                            : "**met** on the point estimate, not on the whole interval")
                : "not met");
      };
      const FrontierPoint& point = dataset.points[best];
      if (IsServed(point)) {
        absl::StrAppend(&md, "  - ", dataset.name, ": ", line(point, "best is "), "\n");
        continue;
      }
      // An emulated codec measures what a table kind would give; it is not served yet.
      const int served = BestAtRatio(dataset, goal.ratio, /*served_only=*/true);
      absl::StrAppend(&md, "  - ", dataset.name, ": ", line(point, "best is the emulated "),
                      " (not served yet); best served: ",
                      served < 0 ? absl::StrCat("no point reaches ", goal.ratio, "x")
                                 : line(dataset.points[served], ""),
                      "\n");
    }
  }
  for (const FrontierDataset& dataset : results) {
    const std::vector<size_t> front = ParetoFront(dataset);
    const std::set<size_t> on_front(front.begin(), front.end());
    absl::StrAppend(&md, "\n## ", dataset.name, "\n\n", dataset.users, " users, ", dataset.items,
                    " items, ", dataset.interactions, " interactions; d = ", dataset.d, "; ",
                    dataset.seeds, dataset.seeds == 1 ? " seed" : " seeds", "; ",
                    absl::StrFormat("%.1f", dataset.seconds / 60), " minutes.\n\n");
    absl::StrAppend(&md,
                    "| | model (input / output) | how | bytes/item | ratio | nDCG@10 | seeds | "
                    "loss vs full (95% CI) | wd |\n|---|---|---|---:|---:|---|---|---|---|\n");
    std::vector<size_t> order(dataset.points.size());
    for (size_t i = 0; i < order.size(); ++i) order[i] = i;
    std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) {
      return dataset.points[a].table_bytes > dataset.points[b].table_bytes;
    });
    for (size_t i : order) {
      const FrontierPoint& point = dataset.points[i];
      const MeanStdErr loss = RelativeLoss(dataset, point);
      const std::string loss_text = i == 0
                                        ? "reference"
                                        : absl::StrFormat("%s (%s to %s)", Percent(loss.mean),
                                                          Percent(loss.mean - kZ95 * loss.stderr_),
                                                          Percent(loss.mean + kZ95 * loss.stderr_));
      absl::StrAppend(
          &md, "| ", on_front.count(i) ? "*" : "", " | ", point.label, " | ",
          point.finetuned ? "fine-tuned"
          : point.trained ? "trained"
                          : "encoded",
          " | ", absl::StrFormat("%.1f", BytesPerItem(dataset, point)), " | ",
          absl::StrFormat("%.2fx", point.whole_ratio), " | ",
          absl::StrFormat("%.4f ± %.4f", point.metrics.ndcg.mean, point.metrics.ndcg.stderr_),
          " | ",
          absl::StrFormat("%.4f-%.4f", Min(point.metrics.seed_ndcg), Max(point.metrics.seed_ndcg)),
          " | ", loss_text, " | ", absl::StrFormat("%.0e", point.weight_decay), " |\n");
    }
  }
  return md;
}

namespace {

// RFC 4180: a field with a comma or a quote is quoted, its quotes doubled ("memcom 4x / memcom
// 4x, int8 rows" is one label).
std::string CsvField(const std::string& text) {
  if (text.find_first_of(",\"\n") == std::string::npos) return text;
  return absl::StrCat("\"", absl::StrReplaceAll(text, {{"\"", "\"\""}}), "\"");
}

}  // namespace

std::string FrontierCsv(const std::vector<FrontierDataset>& results) {
  std::string csv =
      "dataset,label,family,trained,table_bytes,bytes_per_item,whole_ratio,test_ndcg,"
      "test_ndcg_se,relative_loss,relative_loss_se,pareto,seeds,weight_decay\n";
  for (const FrontierDataset& dataset : results) {
    const std::vector<size_t> front = ParetoFront(dataset);
    const std::set<size_t> on_front(front.begin(), front.end());
    for (size_t i = 0; i < dataset.points.size(); ++i) {
      const FrontierPoint& p = dataset.points[i];
      const MeanStdErr loss = RelativeLoss(dataset, p);
      absl::StrAppend(
          &csv,
          absl::StrFormat("%s,%s,%s,%d,%.0f,%.3f,%.3f,%.6f,%.6f,%.6f,%.6f,%d,%d,%g\n",
                          CsvField(dataset.name), CsvField(p.label), CsvField(p.family),
                          p.trained ? 1 : 0, p.table_bytes, BytesPerItem(dataset, p), p.whole_ratio,
                          p.metrics.ndcg.mean, p.metrics.ndcg.stderr_, loss.mean, loss.stderr_,
                          on_front.count(i) ? 1 : 0, dataset.seeds, p.weight_decay));
    }
  }
  return csv;
}

std::string FrontierPlot(const std::vector<FrontierDataset>& results) {
  const size_t panels = std::max<size_t>(1, results.size());
  std::string gp =
      absl::StrCat("set terminal pngcairo noenhanced size ", 560 * panels, ",460 font 'sans,10'\n",
                   "set output 'frontier.png'\nset multiplot layout 1,", panels, "\n",
                   "set logscale x 2\nset xlabel 'bytes per item (both tables, log scale)'\n",
                   "set ylabel 'test nDCG@10'\nset key bottom right font 'sans,8'\nset grid\n",
                   "set datafile separator ','\nset offsets graph 0.06, graph 0.06, 0, 0\n");
  // Families in a fixed order so that each keeps its style across panels.
  const std::vector<std::string> families = {"full",        "int8", "pq",      "memcom",
                                             "memcom+int8", "hash", "memcom2", "qr"};
  for (const FrontierDataset& dataset : results) {
    absl::StrAppend(&gp, "set title '", dataset.name, "'\n");
    std::vector<std::string> plots;
    std::string data;
    for (size_t f = 0; f < families.size(); ++f) {
      std::string rows;
      for (const FrontierPoint& p : dataset.points) {
        if (p.family != families[f]) continue;
        absl::StrAppend(&rows, absl::StrFormat("%.4f,%.6f,%.6f\n", BytesPerItem(dataset, p),
                                               p.metrics.ndcg.mean, p.metrics.ndcg.stderr_));
      }
      if (rows.empty()) continue;
      plots.push_back(absl::StrCat("'-' using 1:2:3 with yerrorbars pt ", 5 + f, " ps 1.1 title '",
                                   families[f], "'"));
      absl::StrAppend(&data, rows, "e\n");
    }
    std::string front_rows;
    for (size_t i : ParetoFront(dataset)) {
      const FrontierPoint& p = dataset.points[i];
      absl::StrAppend(&front_rows, absl::StrFormat("%.4f,%.6f\n", BytesPerItem(dataset, p),
                                                   p.metrics.ndcg.mean));
    }
    plots.push_back("'-' using 1:2 with lines lw 2 lc rgb '#888888' title 'Pareto front'");
    absl::StrAppend(&data, front_rows, "e\n");
    absl::StrAppend(&gp, "plot ", absl::StrJoin(plots, ", \\\n     "), "\n", data);
  }
  absl::StrAppend(&gp, "unset multiplot\n");
  return gp;
}

}  // namespace ranker
