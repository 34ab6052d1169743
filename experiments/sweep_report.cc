#include "experiments/sweep_report.h"

#include <cmath>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/strip.h"

namespace ranker {
namespace {

std::string Grid(const std::vector<float>& grid) {
  return absl::StrCat(
      "{",
      absl::StrJoin(grid, ", ",
                    [](std::string* out, float wd) { absl::StrAppendFormat(out, "%.0e", wd); }),
      "}");
}

std::string WeightDecayText(const SweepOptions& options) {
  const std::vector<float>& grid = options.weight_decay_grid;
  const std::vector<float>& dot_grid = options.dot_weight_decay_grid;
  if (grid.empty() && dot_grid.empty()) {
    return absl::StrFormat("every run uses the given weight decay %.0e (no search)",
                           options.base.weight_decay);
  }
  const auto text = [&options](const std::vector<float>& g) {
    return g.empty() ? absl::StrFormat("%.0e as given", options.base.weight_decay) : Grid(g);
  };
  return absl::StrCat("the weight decay of each configuration is chosen from ", text(grid),
                      " (plain dot product: ", text(dot_grid),
                      ") on seed 1's **validation** split");
}

// Same users, same splits: a - b over users, with how it compares to twice its standard error.
std::string Difference(const MeanStdErr& d) {
  const char* verdict = d.mean > 2 * d.stderr_    ? "> 2 SE"
                        : d.mean < -2 * d.stderr_ ? "< -2 SE"
                                                  : "within 2 SE";
  return absl::StrFormat("nDCG@10 difference %+.4f ± %.4f (%s)", d.mean, d.stderr_, verdict);
}

MeanStdErr Paired(const ConfigResult& a, const ConfigResult& b) {
  return PairedDifference(a.metrics.user_ndcg, b.metrics.user_ndcg);
}

void AppendTable(const DatasetResult& r, std::string* md) {
  const ConfigResult* full = r.Find(TablesMethod(snapshot::FULL));
  const ConfigResult* pop = r.Find(PopularityMethod());
  absl::StrAppend(md, "| method | ratio | table bytes | nDCG@10 | seeds | Recall@10 | rel. loss ",
                  "vs full | lift over popularity | train s/run | wd |\n",
                  "|---|---|---|---|---|---|---|---|---|---|\n");
  for (const ConfigResult& a : r.rows) {
    if (a.method.history) continue;
    const bool is_pop = a.method.popularity;
    const bool clamped = a.target_ratio > 1 && std::abs(a.actual_ratio / a.target_ratio - 1) > 0.05;
    const SeedMetrics& m = a.metrics;
    absl::StrAppendFormat(
        md, "| %s | %s | %s | %.4f ± %.4f | %.4f–%.4f | %.4f ± %.4f | %s | %s | %s | %s |\n",
        ConfigLabel(a.method, a.target_ratio),
        is_pop ? "–" : absl::StrFormat("%.2fx%s", a.actual_ratio, clamped ? " (clamped)" : ""),
        is_pop ? "–" : absl::StrCat(a.table_bytes), m.ndcg.mean, m.ndcg.stderr_, Min(m.seed_ndcg),
        Max(m.seed_ndcg), m.recall.mean, m.recall.stderr_,
        full != nullptr && !is_pop
            ? absl::StrFormat("%.1f%%", 100 * (1 - m.ndcg.mean / full->metrics.ndcg.mean))
            : "–",
        pop != nullptr && !is_pop
            ? absl::StrFormat("%+.1f%%", 100 * (m.ndcg.mean / pop->metrics.ndcg.mean - 1))
            : "–",
        is_pop ? "–" : absl::StrFormat("%.1f", Mean(m.seed_seconds)),
        is_pop ? "–" : absl::StrFormat("%.0e", a.weight_decay));
  }
}

void AppendComparisons(const SweepOptions& options, const DatasetResult& r, std::string* md) {
  const SweepMethod memcom = TablesMethod(snapshot::MEMCOM);
  const ConfigResult* full = r.Find(TablesMethod(snapshot::FULL));
  const ConfigResult* pop = r.Find(PopularityMethod());
  absl::StrAppend(md, "\n### Paired comparisons on ", r.name,
                  " (per-user nDCG@10, seed-averaged; mean ± standard error over users)\n\n");
  for (double ratio : options.ratios) {
    const ConfigResult* mem = r.Find(memcom, ratio);
    if (mem == nullptr) continue;
    for (TableKind other : {snapshot::HASH, snapshot::QR}) {
      const ConfigResult* o = r.Find(TablesMethod(other), ratio);
      if (o == nullptr) continue;
      absl::StrAppend(md, "- memcom vs ", TableKindName(other), " at ", ratio,
                      "x: ", Difference(Paired(*mem, *o)), "\n");
    }
    // Beating popularity is only in question at moderate compression.
    if (pop != nullptr && ratio <= 16) {
      absl::StrAppend(md, "- memcom ", ratio, "x vs popularity: ", Difference(Paired(*mem, *pop)),
                      "\n");
    }
    const ConfigResult* freq = r.Find(TablesMethod(snapshot::MEMCOM_FREQ), ratio);
    if (freq != nullptr) {
      absl::StrAppend(md, "- memcom_freq vs memcom at ", ratio,
                      "x: ", Difference(Paired(*freq, *mem)), "\n");
    }
  }
  const ConfigResult* mem16 = r.Find(memcom, 16);
  if (mem16 != nullptr && full != nullptr) {
    const MeanStdErr d = Paired(*full, *mem16);
    const double scale = 100 / full->metrics.ndcg.mean;
    absl::StrAppendFormat(md,
                          "- memcom 16x vs full: relative nDCG@10 loss %.1f%% (95%% CI %.1f%% to "
                          "%.1f%%); upper bound %s the paper's figure of about 4%%\n",
                          scale * d.mean, scale * (d.mean - 2 * d.stderr_),
                          scale * (d.mean + 2 * d.stderr_),
                          scale * (d.mean + 2 * d.stderr_) <= 4 ? "within" : "above");
  }
  const ConfigResult* dot = r.Find(DotMethod());
  if (dot != nullptr && full != nullptr) {
    const MeanStdErr d = Paired(*full, *dot);
    absl::StrAppendFormat(md,
                          "- full (MLP + dot) vs dot alone, both full tables: nDCG@10 difference "
                          "%+.4f ± %.4f (%s)\n",
                          d.mean, d.stderr_,
                          d.mean >= -2 * d.stderr_ ? "not worse beyond 2 SE" : "worse beyond 2 SE");
  }
}

// Tables of a history model against the full history model's two n x d tables.
double HistoryTablesRatio(const ConfigResult& a) {
  if (a.method.tied) return 2 * a.input_ratio;
  return a.input_ratio > 0 && a.output_ratio > 0 ? 2 / (1 / a.input_ratio + 1 / a.output_ratio) : 0;
}

bool HasHistoryRows(const DatasetResult& r) {
  for (const ConfigResult& a : r.rows) {
    if (a.method.history) return true;
  }
  return false;
}

// Both history tables compressed (tied counts): the whole-model variants of target 4.
bool WholeModelCompressed(const SweepMethod& m) {
  return m.history && (m.tied || (m.kind != snapshot::FULL && m.output_kind != snapshot::FULL));
}

void AppendHistoryTable(const DatasetResult& r, std::string* md) {
  const ConfigResult* full = r.Find(HistoryMethod(snapshot::FULL, 1));
  const ConfigResult* id_full = r.Find(TablesMethod(snapshot::FULL));
  absl::StrAppend(md,
                  "| method (input / output) | input ratio | output ratio | tables vs full "
                  "history | model vs full user-ID | nDCG@10 | seeds | Recall@10 | rel. loss vs "
                  "full history | vs user-ID full | train s/run | wd |\n",
                  "|---|---|---|---|---|---|---|---|---|---|---|---|\n");
  for (const ConfigResult& a : r.rows) {
    if (!a.method.history) continue;
    const SeedMetrics& m = a.metrics;
    absl::StrAppendFormat(
        md,
        "| %s | %.2fx | %s | %.2fx | %.2fx | %.4f ± %.4f | %.4f–%.4f | %.4f ± %.4f | %s | %s | "
        "%.1f | %.0e |\n",
        ConfigLabel(a.method, a.target_ratio), a.input_ratio,
        a.method.tied ? std::string("(tied)") : absl::StrFormat("%.2fx", a.output_ratio),
        HistoryTablesRatio(a), a.ratio_vs_full_id_model, m.ndcg.mean, m.ndcg.stderr_,
        Min(m.seed_ndcg), Max(m.seed_ndcg), m.recall.mean, m.recall.stderr_,
        full != nullptr
            ? absl::StrFormat("%.1f%%", 100 * (1 - m.ndcg.mean / full->metrics.ndcg.mean))
            : "–",
        id_full != nullptr
            ? absl::StrFormat("%+.1f%%", 100 * (m.ndcg.mean / id_full->metrics.ndcg.mean - 1))
            : "–",
        Mean(m.seed_seconds), a.weight_decay);
  }
}

// Relative loss of `b` against `a` (paired over users), with its 95% interval.
struct RelativeLoss {
  double loss, low, high;  // percent
};

RelativeLoss Loss(const ConfigResult& reference, const ConfigResult& b) {
  const MeanStdErr d = Paired(reference, b);
  const double scale = 100 / reference.metrics.ndcg.mean;
  return {scale * d.mean, scale * (d.mean - 1.96 * d.stderr_), scale * (d.mean + 1.96 * d.stderr_)};
}

std::string DifferenceWithInterval(const MeanStdErr& d) {
  return absl::StrFormat("%+.4f ± %.4f (95%% CI %+.4f to %+.4f)", d.mean, d.stderr_,
                         d.mean - 1.96 * d.stderr_, d.mean + 1.96 * d.stderr_);
}

}  // namespace

std::vector<GoalResult> HistoryGoals(const DatasetResult& r) {
  std::vector<GoalResult> goals;
  const ConfigResult* full = r.Find(HistoryMethod(snapshot::FULL, 1));
  const ConfigResult* id_full = r.Find(TablesMethod(snapshot::FULL));
  const ConfigResult* mem16 = r.Find(HistoryMethod(snapshot::MEMCOM, 16));
  if (full != nullptr && id_full != nullptr) {
    const MeanStdErr d = Paired(*full, *id_full);
    const bool met = d.mean > 2 * d.stderr_;
    goals.push_back({1, "history full / full vs user-ID full",
                     absl::StrCat("nDCG@10 difference ", DifferenceWithInterval(d), ": ",
                                  met ? "**met** (> 2 SE)" : "not met (not > 2 SE)"),
                     met});
  }
  if (full != nullptr && mem16 != nullptr) {
    const RelativeLoss l = Loss(*full, *mem16);
    const bool met = l.loss <= 5;
    goals.push_back(
        {2, "memcom 16x input vs history full",
         absl::StrFormat("relative nDCG@10 loss %.1f%% (95%% CI %.1f%% to %.1f%%): %s", l.loss,
                         l.low, l.high,
                         !met          ? "not met (> 5%)"
                         : l.high <= 5 ? "**met** (the whole interval is within 5%)"
                                       : "**met** on the point estimate (<= 5%), but the "
                                         "interval reaches above 5%"),
         met});
  }
  if (mem16 != nullptr) {
    for (TableKind other : {snapshot::HASH, snapshot::QR}) {
      const ConfigResult* o = r.Find(HistoryMethod(other, 16));
      if (o == nullptr) continue;
      const MeanStdErr d = Paired(*mem16, *o);
      const char* verdict = d.mean > 2 * d.stderr_    ? "memcom better by > 2 SE"
                            : d.mean < -2 * d.stderr_ ? "memcom WORSE by > 2 SE"
                                                      : "within 2 SE (no difference shown)";
      goals.push_back(
          {3, absl::StrCat("memcom vs ", TableKindName(other), " at 16x input"),
           absl::StrCat("nDCG@10 difference ", DifferenceWithInterval(d), ": ", verdict),
           d.mean > 2 * d.stderr_, d.mean < -2 * d.stderr_});
    }
  }
  if (full != nullptr) {
    for (const ConfigResult& a : r.rows) {
      if (!WholeModelCompressed(a.method)) continue;
      const RelativeLoss l = Loss(*full, a);
      const bool met = l.loss < 15;
      // The tables' ratio as built differs a little between sets, so it is in the text, not
      // in `what`, which the summary matches across sets.
      goals.push_back(
          {4, ConfigLabel(a.method, a.target_ratio),
           absl::StrFormat(
               "tables %.1fx, relative nDCG@10 loss %.1f%% (95%% CI %.1f%% to %.1f%%): %s",
               HistoryTablesRatio(a), l.loss, l.low, l.high,
               met ? "**met** (< 15%)" : "not met (>= 15%)"),
           met});
    }
  }
  return goals;
}

namespace {

void AppendGoalSummary(const std::vector<DatasetResult>& results, std::string* md) {
  std::vector<std::vector<GoalResult>> per_set;
  for (const DatasetResult& r : results) per_set.push_back(HistoryGoals(r));
  absl::StrAppend(md,
                  "## History models' targets, on every set (paired over users, 95% interval = "
                  "± 1.96 SE)\n\n",
                  "Goal 1: the history model with full tables beats the user-ID full model by "
                  "> 2 SE on both sets. Goal 2: MEmCom 16x input loses <= 5% against the full "
                  "history model on both sets (the paper's ~4%). Goal 3: MEmCom beats hash and "
                  "QR at 16x input by > 2 SE on at least one set and is not worse by > 2 SE "
                  "anywhere. Goal 4: both tables compressed, 16x together: loss < 15% on both "
                  "sets; one line per variant tried.\n\n");
  if (per_set.empty()) return;
  // Goals are listed in the first set's order; a goal missing on another set is not met.
  for (const GoalResult& goal : per_set[0]) {
    bool all_met = true, any_met = false, any_worse = false;
    std::vector<std::string> parts;
    for (size_t i = 0; i < results.size(); ++i) {
      const GoalResult* found = nullptr;
      for (const GoalResult& g : per_set[i]) {
        if (g.goal == goal.goal && g.what == goal.what) found = &g;
      }
      all_met = all_met && found != nullptr && found->met;
      any_met = any_met || (found != nullptr && found->met);
      any_worse = any_worse || (found != nullptr && found->worse);
      parts.push_back(absl::StrCat(results[i].name, ": ",
                                   found != nullptr ? found->text : std::string("not run")));
    }
    const bool met = goal.goal == 3 ? any_met && !any_worse : all_met;
    absl::StrAppend(md, "- Goal ", goal.goal, ", ", goal.what, ": ",
                    !met             ? "**not met**"
                    : goal.goal == 3 ? "**met**"
                                     : "**met** on every set",
                    "\n");
    for (const std::string& part : parts) absl::StrAppend(md, "  - ", part, "\n");
  }
  md->append("\n");
}

}  // namespace

std::string ReportMarkdown(const SweepOptions& options, const std::vector<DatasetResult>& results,
                           const MachineInfo& machine, double seconds, const std::string& command,
                           const std::string& findings, const std::string& retrieval) {
  std::string md = absl::StrCat(
      "# Ranking quality: MEmCom and baselines at equal compression\n\nProduced by one command (",
      absl::StrFormat("%.0f", seconds / 60), " minutes on ", DescribeMachine(machine), ", ",
      machine.date, "):\n\n```sh\n", command, "\n```\n\n",
      "Protocol (see `trainer/`): per user, in time order, the last 20% of interactions are "
      "test, the 10% before them validation, the rest training. nDCG@10 and Recall@10 rank the "
      "**full catalogue** minus the user's training and validation items; every test item is "
      "relevant. Each configuration is trained with ",
      options.seeds,
      " seeds (seed = split tie order, initialisation, sampling), each batch split over ",
      options.base.threads, options.base.threads == 1 ? " thread" : " threads",
      " (results depend on the seed and the thread count); ", WeightDecayText(options),
      "; early stopping uses validation nDCG@10, and the test split is used only for the figures "
      "below. Figures are means over users of the seed-averaged per-user metric, ± the standard "
      "error over users; *seeds* gives the range of the per-seed means. Comparisons are "
      "paired over users (same users, same splits). Ratio = parameters of full n x d user and "
      "item tables / parameters of the compressed tables, exactly as built (`clamped` where "
      "a kind cannot reach the target: qr cannot exceed about sqrt(n)/2, memcom about d). "
      "Models: d = ",
      options.base.d, ", RankNet MLP ", absl::StrJoin(options.base.hidden, "-"),
      " over [e_u, e_i, e_u*e_i] plus a trained dot-product term (`dot` = the dot product "
      "alone over full tables), RankNet loss with ",
      options.base.negatives, " sampled negatives per positive.\n\n",
      "![nDCG@10 against compression ratio](results.png)\n\n");
  bool history = false;
  for (const DatasetResult& r : results) history = history || HasHistoryRows(r);
  if (history) {
    absl::StrAppend(
        &md, "## History models\n\n",
        "A history model has no user table: the user vector is the mean of the input table's "
        "(`item_in`) rows over the user's most recent ",
        options.base.max_history,
        " items, oldest first (training: the training items minus the pair's positive; "
        "validation: the training items; test: the training then validation items), scored "
        "against the output table (`item`) with the same scorer; `tied` uses one item table for "
        "both. Every item the user is known to have is excluded from the ranking, as for the "
        "user-ID models. *input/output ratio* = n x d / parameters of that table as built; "
        "*tables vs full history* = 2 n x d / parameters of both tables (16x = the whole model's "
        "tables 16x smaller than the full history model's); *model vs full user-ID* = parameters "
        "of the full user-ID model of the same data ((users + items) x d tables and the same "
        "scorer) / parameters of the served history model (tables, scorer and popularity prior): "
        "what switching saves. Rows marked *int8 rows* store both tables' d-wide rows as int8 "
        "with a float scale per row at every export (`--rows int8`; training stays in float), "
        "are evaluated and served that way, and their ratios count those bytes. Weight decay "
        "of history models: ",
        Grid(options.history_weight_decay_grid.empty()
                 ? std::vector<float>{options.base.weight_decay}
                 : options.history_weight_decay_grid),
        options.history_weight_decay_grid.size() > 1 ? " searched on seed 1's validation split"
                                                     : " (no search)",
        ".\n\n");
    if (!findings.empty()) absl::StrAppend(&md, findings, "\n");
    AppendGoalSummary(results, &md);
  }
  for (const DatasetResult& r : results) {
    absl::StrAppend(&md, "## ", r.name, " (", r.users, " users, ", r.items, " items, ",
                    r.interactions, " interactions)\n\n");
    if (HasHistoryRows(r)) md += "### User-ID models\n\n";
    AppendTable(r, &md);
    AppendComparisons(options, r, &md);
    if (HasHistoryRows(r)) {
      absl::StrAppend(&md, "\n### History models on ", r.name, "\n\n");
      AppendHistoryTable(r, &md);
      md += "\n";
      for (const GoalResult& g : HistoryGoals(r)) {
        absl::StrAppend(&md, "- Goal ", g.goal, ", ", g.what, ": ", g.text, "\n");
      }
    }
    md += "\n";
  }
  if (!retrieval.empty()) absl::StrAppend(&md, kRetrievalHeading, retrieval);
  return md;
}

}  // namespace ranker
