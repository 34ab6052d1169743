#include "trainer/sweep.h"

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "common/status_macros.h"
#include "model/table_sizing.h"

namespace ranker {
namespace {

struct Config {
  std::string method;  // popularity, full, dot, hash, qr, memcom, memcom_freq
  double target_ratio = 1;
};

struct Aggregate {
  Config config;
  double actual_ratio = 1;
  uint64_t table_bytes = 0;
  float weight_decay = 0;
  std::vector<double> seed_ndcg, seed_recall, seed_seconds;
  std::vector<double> user_ndcg, user_recall;  // per user, averaged over seeds
  MeanStdErr ndcg, recall;
};

double Min(const std::vector<double>& v) { return *std::min_element(v.begin(), v.end()); }
double Max(const std::vector<double>& v) { return *std::max_element(v.begin(), v.end()); }
double Mean(const std::vector<double>& v) {
  double s = 0;
  for (double x : v) s += x;
  return v.empty() ? 0 : s / static_cast<double>(v.size());
}

void AddSeed(Aggregate* a, const Evaluation& e, double seconds) {
  a->seed_ndcg.push_back(e.ndcg.mean);
  a->seed_recall.push_back(e.recall.mean);
  a->seed_seconds.push_back(seconds);
  if (a->user_ndcg.empty()) {
    a->user_ndcg.assign(e.per_user_ndcg.size(), 0);
    a->user_recall.assign(e.per_user_recall.size(), 0);
  }
  for (size_t u = 0; u < a->user_ndcg.size() && u < e.per_user_ndcg.size(); ++u) {
    a->user_ndcg[u] += e.per_user_ndcg[u];
    a->user_recall[u] += e.per_user_recall[u];
  }
}

void Finish(Aggregate* a) {
  const double seeds = static_cast<double>(a->seed_ndcg.size());
  for (double& x : a->user_ndcg) x /= seeds;
  for (double& x : a->user_recall) x /= seeds;
  a->ndcg = Summarize(a->user_ndcg);
  a->recall = Summarize(a->user_recall);
}

// Paired difference a - b over the same users (seed-averaged), mean and standard error.
MeanStdErr Paired(const Aggregate& a, const Aggregate& b) {
  std::vector<double> diff(a.user_ndcg.size());
  for (size_t u = 0; u < diff.size(); ++u) diff[u] = a.user_ndcg[u] - b.user_ndcg[u];
  return Summarize(diff);
}

std::string Label(const Config& c) {
  if (c.method == "popularity" || c.method == "full" || c.method == "dot") return c.method;
  return absl::StrCat(c.method, " ", c.target_ratio, "x");
}

struct DatasetResult {
  std::string name;
  size_t users = 0, items = 0, interactions = 0;
  std::vector<Aggregate> rows;
  const Aggregate* Find(const std::string& method, double ratio = 1) const {
    for (const Aggregate& a : rows) {
      if (a.config.method == method && (a.config.target_ratio == ratio || method == "popularity" ||
                                        method == "full" || method == "dot")) {
        return &a;
      }
    }
    return nullptr;
  }
};

absl::StatusOr<DatasetResult> SweepDataset(const SweepOptions& options, const std::string& name,
                                           const std::string& path, std::ofstream& csv) {
  ASSIGN_OR_RETURN(Dataset dataset, ReadInteractions(path, LogFormat::kAuto, name));
  DatasetResult out;
  out.name = name;
  out.users = dataset.users();
  out.items = dataset.items();
  out.interactions = dataset.interactions.size();
  std::vector<Split> splits;
  for (int s = 1; s <= options.seeds; ++s) {
    SplitOptions split_options;
    split_options.seed = static_cast<uint64_t>(s);
    splits.push_back(SplitPerUser(dataset, split_options));
  }
  std::vector<Config> configs = {{"popularity", 1}};
  for (const std::string& method : options.methods) {
    if (method == "full" || method == "dot") {
      configs.push_back({method, 1});
    } else {
      for (double r : options.ratios) configs.push_back({method, r});
    }
  }
  for (const Config& config : configs) {
    Aggregate agg;
    agg.config = config;
    if (config.method == "popularity") {
      for (int s = 0; s < options.seeds; ++s) {
        AddSeed(&agg, EvaluatePopularity(splits[s], HeldOut::kTest), 0);
      }
      agg.actual_ratio = 0;
      Finish(&agg);
      out.rows.push_back(std::move(agg));
      continue;
    }
    TrainOptions train = options.base;
    train.clamp_ratio = true;
    train.ratio = config.target_ratio;
    train.scorer = config.method == "dot" ? ScorerMode::kDot : options.base.scorer;
    ASSIGN_OR_RETURN(train.kind, ParseTableKind(config.method == "dot" ? "full" : config.method));
    // Weight decay chosen per configuration on seed 1's validation split (never on test).
    const std::vector<float> grid = config.method == "dot" ? std::vector<float>{1e-5f, 1e-4f}
                                                           : std::vector<float>{1e-4f, 1e-3f};
    for (int s = 1; s <= options.seeds; ++s) {
      train.seed = static_cast<uint64_t>(s);
      std::optional<TrainResult> best;
      for (float wd : (s == 1 ? grid : std::vector<float>{agg.weight_decay})) {
        train.weight_decay = wd;
        ASSIGN_OR_RETURN(TrainResult result, Train(dataset, splits[s - 1], train));
        std::fprintf(stderr,
                     "  [%s] %-16s seed %d wd %.0e: validation nDCG@10 %.4f (epoch %d, %.1f s)\n",
                     name.c_str(), Label(config).c_str(), s, wd, result.validation.ndcg.mean,
                     result.best_epoch, result.train_seconds);
        if (!best || result.validation.ndcg.mean > best->validation.ndcg.mean) {
          agg.weight_decay = wd;
          best = std::move(result);
        }
      }
      const Evaluation test = EvaluateModel(*best->model, dataset, splits[s - 1], HeldOut::kTest);
      agg.actual_ratio = best->compression_ratio;
      agg.table_bytes = best->table_bytes;
      AddSeed(&agg, test, best->train_seconds);
      csv << absl::StrFormat("%s,%s,%g,%.3f,%d,%g,%d,%.6f,%.6f,%.6f,%.6f,%.6f,%.2f\n", name,
                             config.method, config.target_ratio, best->compression_ratio,
                             best->table_bytes, agg.weight_decay, s, best->validation.ndcg.mean,
                             test.ndcg.mean, test.ndcg.stderr_, test.recall.mean,
                             test.recall.stderr_, best->train_seconds);
      csv.flush();
    }
    Finish(&agg);
    std::fprintf(stderr, "[%s] %-16s test nDCG@10 %.4f +- %.4f (ratio %.2fx)\n", name.c_str(),
                 Label(config).c_str(), agg.ndcg.mean, agg.ndcg.stderr_, agg.actual_ratio);
    out.rows.push_back(std::move(agg));
  }
  return out;
}

std::string Verdict(const MeanStdErr& diff) {
  return absl::StrFormat("%+.4f ± %.4f: %s", diff.mean, diff.stderr_,
                         diff.mean > 2 * diff.stderr_ ? "**met** (> 2 SE)" : "not met");
}

void WriteMarkdown(const SweepOptions& options, const std::vector<DatasetResult>& results,
                   double total_seconds, const std::string& command) {
  std::ofstream md(options.out_dir + "/results.md");
  md << "# Ranking quality: MEmCom and baselines at equal compression\n\n"
     << "Produced by one command (" << absl::StrFormat("%.0f", total_seconds / 60)
     << " minutes on the 2-core development machine):\n\n```sh\n"
     << command << "\n```\n\n"
     << "Protocol (see `trainer/`): per user, in time order, the last 20% of interactions are "
        "test, the 10% before them validation, the rest training. nDCG@10 and Recall@10 rank the "
        "**full catalogue** minus the user's training and validation items; every test item is "
        "relevant. Each configuration is trained with "
     << options.seeds
     << " seeds (seed = split tie order, initialisation, sampling); the weight decay of each "
        "configuration is chosen from a grid on seed 1's **validation** split, early stopping "
        "uses validation nDCG@10, and the test split is used only for the figures below. "
        "Figures are means over users of the seed-averaged per-user metric, ± the standard "
        "error over users; *seeds* gives the range of the per-seed means. Comparisons are "
        "paired over users (same users, same splits). Ratio = parameters of full n x d user and "
        "item tables / parameters of the compressed tables, exactly as built (`clamped` where "
        "a kind cannot reach the target: qr cannot exceed about sqrt(n)/2, memcom about d). "
        "Models: d = "
     << options.base.d << ", RankNet MLP " << absl::StrJoin(options.base.hidden, "-")
     << " over [e_u, e_i, e_u*e_i] plus a trained dot-product term (`dot` = the dot product "
        "alone over full tables), RankNet loss with "
     << options.base.negatives << " sampled negatives per positive.\n\n";
  md << "![nDCG@10 against compression ratio](results.png)\n\n";
  for (const DatasetResult& r : results) {
    const Aggregate* full = r.Find("full");
    const Aggregate* pop = r.Find("popularity");
    md << "## " << r.name << " (" << r.users << " users, " << r.items << " items, "
       << r.interactions << " interactions)\n\n"
       << "| method | ratio | table bytes | nDCG@10 | seeds | Recall@10 | rel. loss vs full | lift "
          "over popularity | train s/run | wd |\n|---|---|---|---|---|---|---|---|---|---|\n";
    for (const Aggregate& a : r.rows) {
      const bool is_pop = a.config.method == "popularity";
      md << absl::StrFormat(
          "| %s | %s | %s | %.4f ± %.4f | %.4f–%.4f | %.4f ± %.4f | %s | %s | %s | %s |\n",
          Label(a.config),
          is_pop
              ? "–"
              : absl::StrFormat("%.2fx%s", a.actual_ratio,
                                a.config.target_ratio > 1 &&
                                        std::abs(a.actual_ratio / a.config.target_ratio - 1) > 0.05
                                    ? " (clamped)"
                                    : ""),
          is_pop ? "–" : absl::StrCat(a.table_bytes), a.ndcg.mean, a.ndcg.stderr_, Min(a.seed_ndcg),
          Max(a.seed_ndcg), a.recall.mean, a.recall.stderr_,
          full != nullptr && !is_pop
              ? absl::StrFormat("%.1f%%", 100 * (1 - a.ndcg.mean / full->ndcg.mean))
              : "–",
          pop != nullptr && !is_pop
              ? absl::StrFormat("%+.1f%%", 100 * (a.ndcg.mean / pop->ndcg.mean - 1))
              : "–",
          is_pop ? "–" : absl::StrFormat("%.1f", Mean(a.seed_seconds)),
          is_pop ? "–" : absl::StrFormat("%.0e", a.weight_decay));
    }
    md << "\n### Goals on " << r.name << "\n\n";
    for (double ratio : options.ratios) {
      const Aggregate* mem = r.Find("memcom", ratio);
      if (mem == nullptr) continue;
      for (const char* other : {"hash", "qr"}) {
        const Aggregate* o = r.Find(other, ratio);
        if (o != nullptr) {
          md << "- Goal 1, memcom vs " << other << " at " << ratio << "x: nDCG@10 difference "
             << Verdict(Paired(*mem, *o)) << "\n";
        }
      }
      if (pop != nullptr && ratio <= 16) {
        md << "- Goal 2, memcom " << ratio << "x vs popularity: " << Verdict(Paired(*mem, *pop))
           << "\n";
      }
      const Aggregate* freq = r.Find("memcom_freq", ratio);
      if (freq != nullptr) {
        md << "- Goal 4, memcom_freq vs memcom at " << ratio
           << "x: " << Verdict(Paired(*freq, *mem)) << "\n";
      }
    }
    const Aggregate* mem16 = r.Find("memcom", 16);
    if (mem16 != nullptr && full != nullptr) {
      const MeanStdErr d = Paired(*full, *mem16);
      md << absl::StrFormat(
          "- Goal 3, relative nDCG@10 loss of memcom 16x against full: %.1f%% (95%% CI %.1f%% to "
          "%.1f%%); the paper's figure is about 4%%: %s\n",
          100 * d.mean / full->ndcg.mean, 100 * (d.mean - 2 * d.stderr_) / full->ndcg.mean,
          100 * (d.mean + 2 * d.stderr_) / full->ndcg.mean,
          (d.mean + 2 * d.stderr_) / full->ndcg.mean <= 0.04 ? "**met**" : "not met");
    }
    const Aggregate* dot = r.Find("dot");
    if (dot != nullptr && full != nullptr) {
      const MeanStdErr d = Paired(*full, *dot);
      md << "- Goal 5, served scorer (MLP + dot) vs plain dot product, both full tables: "
         << absl::StrFormat(
                "%+.4f ± %.4f: %s", d.mean, d.stderr_,
                d.mean >= -2 * d.stderr_ ? "**met** (not worse beyond 2 SE)" : "not met")
         << "\n";
    }
    md << "\n";
  }
}

void WritePlot(const SweepOptions& options, const std::vector<DatasetResult>& results) {
  std::ofstream gp(options.out_dir + "/results.gp");
  gp << "# Generated by ranker-train sweep; run: gnuplot results.gp\n"
     << "set terminal pngcairo size " << 640 * results.size() << ",480 font 'sans,10'\n"
     << "set termoption noenhanced\nset output 'results.png'\nset multiplot layout 1,"
     << results.size() << "\n"
     << "set logscale x 2\nset xrange [2.5:90]\nset xlabel 'compression ratio (x)'\n"
     << "set ylabel 'test nDCG@10 (± SE over users)'\nset key top right\nset grid\n";
  const std::vector<std::string> kinds = {"hash", "qr", "memcom", "memcom_freq"};
  for (const DatasetResult& r : results) {
    for (const std::string& kind : kinds) {
      gp << "$" << r.name.substr(0, 0) << "d_" << kind << " << EOD\n";
      for (const Aggregate& a : r.rows) {
        if (a.config.method == kind) {
          gp << a.actual_ratio << " " << a.ndcg.mean << " " << a.ndcg.stderr_ << "\n";
        }
      }
      gp << "EOD\n";
    }
    const Aggregate* full = r.Find("full");
    const Aggregate* pop = r.Find("popularity");
    gp << "set title '" << r.name << "'\n";
    gp << "plot ";
    std::vector<std::string> parts;
    for (const std::string& kind : kinds) {
      parts.push_back(
          absl::StrCat("$d_", kind, " using 1:2:3 with yerrorlines title '", kind, "'"));
    }
    if (full != nullptr) {
      parts.push_back(absl::StrFormat("%f with lines dashtype 2 lc rgb 'black' title 'full (1x)'",
                                      full->ndcg.mean));
    }
    if (pop != nullptr) {
      parts.push_back(absl::StrFormat("%f with lines dashtype 3 lc rgb 'gray40' title 'popularity'",
                                      pop->ndcg.mean));
    }
    gp << absl::StrJoin(parts, ", \\\n     ") << "\n";
  }
  gp << "unset multiplot\n";
  gp.close();
  const std::string run = absl::StrCat("cd '", options.out_dir, "' && gnuplot results.gp");
  if (std::system(run.c_str()) != 0) {
    std::fprintf(stderr, "gnuplot failed; results.gp is left for you to run\n");
  }
}

}  // namespace

absl::Status RunSweep(const SweepOptions& options) {
  const auto start = std::chrono::steady_clock::now();
  std::error_code ec;
  std::filesystem::create_directories(options.out_dir, ec);
  std::ofstream csv(options.out_dir + "/results.csv");
  csv << "dataset,method,target_ratio,ratio,table_bytes,weight_decay,seed,validation_ndcg,"
         "test_ndcg,test_ndcg_se,test_recall,test_recall_se,train_seconds\n";
  std::vector<DatasetResult> results;
  for (const auto& [name, path] : options.datasets) {
    std::fprintf(stderr, "== %s (%s)\n", name.c_str(), path.c_str());
    ASSIGN_OR_RETURN(DatasetResult r, SweepDataset(options, name, path, csv));
    results.push_back(std::move(r));
  }
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::string command = "build/trainer/ranker-train sweep --datasets ";
  std::vector<std::string> ds;
  for (const auto& [name, path] : options.datasets) ds.push_back(absl::StrCat(name, "=", path));
  absl::StrAppend(&command, absl::StrJoin(ds, ","), " --seeds ", options.seeds, " --ratios ",
                  absl::StrJoin(options.ratios, ","), " --out ", options.out_dir);
  WriteMarkdown(options, results, seconds, command);
  WritePlot(options, results);
  std::fprintf(stderr, "sweep done in %.1f min: %s/results.md, results.csv, results.png\n",
               seconds / 60, options.out_dir.c_str());
  return absl::OkStatus();
}

}  // namespace ranker
