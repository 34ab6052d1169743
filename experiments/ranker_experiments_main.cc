// ranker-experiments: the measurements behind docs/results*.md. `sweep` compares table kinds,
// ratios and user modes over seeds and data sets (paired statistics, report and plot);
// `retrieval` measures two-stage ranking against one stage. The training flags (kinds, d,
// optimiser...) are trainer/train_flags.cc's, shared with ranker-train.
#include <cstdio>
#include <string>
#include <utility>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/reflection.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "common/command_line.h"
#include "common/files.h"
#include "common/run_program.h"
#include "common/status_macros.h"
#include "experiments/frontier.h"
#include "experiments/frontier_report.h"
#include "experiments/machine_info.h"
#include "experiments/retrieval.h"
#include "experiments/sweep.h"
#include "experiments/sweep_method.h"
#include "trainer/train_flags.h"

ABSL_FLAG(std::string, datasets, "", "NAME=PATH,... e.g. ml-100k=../shared/data/ml-100k/u.data");
// --ratios and --methods default to the command's own defaults (empty: not given).
ABSL_FLAG(std::string, ratios, "",
          "sweep: compression ratios (default 4,16,64). retrieval: those of compressed user-ID "
          "methods (default 16).");
ABSL_FLAG(std::string, methods, "",
          absl::StrCat("sweep: methods besides popularity, which is always run (full and dot are "
                       "uncompressed; dot is the dot product alone; default ",
                       ranker::SweepMethodNames(ranker::DefaultSweepMethods()),
                       "). retrieval: the models measured (default ",
                       ranker::SweepMethodNames(ranker::DefaultRetrievalMethods()), ")."));
ABSL_FLAG(int, seeds, 3, "Seeds per configuration.");
ABSL_FLAG(std::string, retrieve_ns, "10,20,50,100,200,500,1000,2000,5000",
          "retrieval: the Ns stage 1 keeps (positive); each dataset's catalogue size is always "
          "added as the last N, and Ns at or above it are dropped.");
ABSL_FLAG(std::string, history_weight_decays, "1e-4",
          "Weight decays history models try on seed 1's validation split (one value: no "
          "search).");
ABSL_FLAG(
    std::string, codecs, "",
    "frontier: row codecs applied to the trained full model's tables (default "
    "int8,pq32x8,pq16x8,pq8x8,pq32x4,pq16x4,pq8x4,pq4x4,pq8x8/pq16x8,pq16x4/pq32x4,"
    "pq8x4/pq16x4,pq4x4/pq8x4 and ten head/tail budgets; A/B = input table A, output "
    "table B; headP:HEAD+TAIL = the P% most popular items coded HEAD, the rest TAIL, "
    "in both tables (served: model/head_tail_rows.h); a +opq suffix rotates both tables first).");
ABSL_FLAG(std::string, finetuned_codecs, "",
          "frontier: codecs trained into the model: the full model trained again with them, "
          "then --pq_finetune_epochs (default here 5) of fine-tuning with the codes fixed.");
ABSL_FLAG(std::string, seeds_for, "",
          "frontier: NAME=SEEDS,... seeds for some data sets instead of --seeds (e.g. "
          "amazon-beauty=1).");
ABSL_FLAG(std::string, out, "docs",
          "sweep: directory for results.md, results.csv, results.png. retrieval: for "
          "results_retrieval.md, .csv, .gp and .png.");

namespace ranker {
namespace {

constexpr char kUsage[] =
    R"(ranker-experiments: compare ranking methods on real data, with honest statistics.

Usage:
  ranker-experiments sweep --datasets ml-100k=PATH,ml-latest-small=PATH [--seeds 3] [--out docs]
  ranker-experiments frontier --datasets ml-100k=PATH,ml-latest-small=PATH,amazon-beauty=PATH
                     [--seeds 3] [--seeds_for amazon-beauty=1] [--codecs pq16x4,...]
                     [--methods history:memcom@16+memcom@16,...] [--out docs/frontier]
  ranker-experiments retrieval --datasets ml-100k=PATH,ml-latest-small=PATH [--seeds 3]
                     [--methods history:memcom@16+full,history:memcom@16+memcom@16,full,memcom]
                     [--ratios 16] [--retrieve_ns 10,20,50,100,200,500,1000,2000,5000]
                     [--out docs]
  Training flags (--d, --hidden, --max_epochs, --threads...) are ranker-train's.

Protocol: per user in time order, the last 20% of interactions are test, the 10% before them
validation, the rest training. Early stopping and model selection use validation only. nDCG@10
and Recall@10 rank the full catalogue minus the user's known items, every held-out item
relevant; means with standard errors over users; methods are compared by per-user paired
differences with 95% intervals.

sweep: every method at every ratio on every data set and seed; writes results.md (tables,
paired comparisons, the history models' targets), results.csv (every run) and results.png.

frontier: the quality-memory curve of history models: the full float32 model (weight decay
searched), every --codecs row storage applied to its trained tables, and the trained compressed
--methods (default memcom 16x/16x, memcom 32x/10.67x, memcom 4x/4x int8, hash 16x/16x), each
against the full model per user; writes frontier.md (with frontier_findings.md from --out when
present), frontier.csv and frontier.png.

retrieval (two stages): trains each model as the sweep does (same splits, seeds, weight-decay
search), then ranks the test split exhaustively (the scorer over the whole catalogue) and in
two stages at every N (stage 1 keeps the best N by the dot-product term u . e_i, stage 2 ranks
them with the scorer). Writes results_retrieval.md (included by the next `sweep` into
results.md), .csv and .png: nDCG@10 against N, its paired relative difference to the
exhaustive ranking, the recall of the exhaustive top 10 inside stage 1's N, and the smallest N
within 1% on every set.)";

absl::StatusOr<std::vector<std::pair<std::string, std::string>>> DatasetsFromFlag() {
  std::vector<std::pair<std::string, std::string>> datasets;
  for (absl::string_view entry :
       absl::StrSplit(absl::GetFlag(FLAGS_datasets), ',', absl::SkipEmpty())) {
    std::vector<std::string> parts = absl::StrSplit(entry, absl::MaxSplits('=', 1));
    if (parts.size() != 2) {
      return absl::InvalidArgumentError(absl::StrCat("--datasets: '", entry, "' is not NAME=PATH"));
    }
    datasets.push_back({parts[0], parts[1]});
  }
  if (datasets.empty()) return absl::InvalidArgumentError("--datasets is required");
  return datasets;
}

// Keeps `*ratios` (the command's default) when --ratios is empty.
absl::Status RatiosFromFlag(std::vector<double>* ratios) {
  if (absl::GetFlag(FLAGS_ratios).empty()) return absl::OkStatus();
  ratios->clear();
  for (absl::string_view r : absl::StrSplit(absl::GetFlag(FLAGS_ratios), ',', absl::SkipEmpty())) {
    double ratio = 0;
    if (!absl::SimpleAtod(r, &ratio)) {
      return absl::InvalidArgumentError(absl::StrCat("--ratios: '", r, "' is not a number"));
    }
    ratios->push_back(ratio);
  }
  return absl::OkStatus();
}

// Keeps `*methods` (the command's default) when --methods is empty.
absl::Status MethodsFromFlag(std::vector<SweepMethod>* methods) {
  if (absl::GetFlag(FLAGS_methods).empty()) return absl::OkStatus();
  ASSIGN_OR_RETURN(*methods, ParseSweepMethods(absl::GetFlag(FLAGS_methods)));
  return absl::OkStatus();
}

// The sweep's training protocol from the flags: methods and ratios are left to the caller.
absl::Status ProtocolFromFlags(SweepOptions* sweep) {
  ASSIGN_OR_RETURN(sweep->datasets, DatasetsFromFlag());
  sweep->seeds = absl::GetFlag(FLAGS_seeds);
  sweep->out_dir = absl::GetFlag(FLAGS_out);
  ASSIGN_OR_RETURN(sweep->base, TrainOptionsFromFlags());
  sweep->history_weight_decay_grid.clear();
  for (absl::string_view w :
       absl::StrSplit(absl::GetFlag(FLAGS_history_weight_decays), ',', absl::SkipEmpty())) {
    float wd = 0;
    if (!absl::SimpleAtof(w, &wd)) return absl::InvalidArgumentError("bad --history_weight_decays");
    sweep->history_weight_decay_grid.push_back(wd);
  }
  // A weight decay the user chose is not overridden by the search.
  if (WeightDecayFlagGiven()) {
    sweep->weight_decay_grid.clear();
    sweep->dot_weight_decay_grid.clear();
    sweep->history_weight_decay_grid.clear();
  }
  return absl::OkStatus();
}

absl::Status SweepCommand() {
  SweepOptions sweep;
  RETURN_IF_ERROR(ProtocolFromFlags(&sweep));
  RETURN_IF_ERROR(RatiosFromFlag(&sweep.ratios));
  RETURN_IF_ERROR(MethodsFromFlag(&sweep.methods));
  return RunSweep(sweep);
}

absl::Status RetrievalCommand() {
  RetrievalOptions options;
  RETURN_IF_ERROR(ProtocolFromFlags(&options.sweep));
  RETURN_IF_ERROR(RatiosFromFlag(&options.sweep.ratios));
  RETURN_IF_ERROR(MethodsFromFlag(&options.sweep.methods));
  ASSIGN_OR_RETURN(options.retrieve_ns, ParseRetrieveNs(absl::GetFlag(FLAGS_retrieve_ns)));
  return RunRetrieval(options);
}

// The command line that reproduces a frontier run, for its report.
std::string FrontierCommand(const FrontierOptions& options) {
  std::string command = absl::StrCat("build/experiments/ranker-experiments frontier --datasets ",
                                     DatasetsFlag(options.sweep), ProtocolFlags(options.sweep));
  if (!absl::GetFlag(FLAGS_seeds_for).empty()) {
    absl::StrAppend(&command, " --seeds_for ", absl::GetFlag(FLAGS_seeds_for));
  }
  for (const char* flag : {"scorer", "negatives", "max_epochs", "table_optimizer"}) {
    if (const absl::CommandLineFlag* f = absl::FindCommandLineFlag(flag);
        f != nullptr && f->CurrentValue() != f->DefaultValue()) {
      absl::StrAppend(&command, " --", flag, " ", f->CurrentValue());
    }
  }
  if (!absl::GetFlag(FLAGS_codecs).empty()) {
    absl::StrAppend(&command, " --codecs ", absl::GetFlag(FLAGS_codecs));
  }
  if (!absl::GetFlag(FLAGS_methods).empty()) {
    absl::StrAppend(&command, " --methods ", absl::GetFlag(FLAGS_methods));
  }
  if (!options.finetuned.empty()) {
    absl::StrAppend(&command, " --finetuned_codecs ", absl::GetFlag(FLAGS_finetuned_codecs),
                    " --pq_finetune_epochs ", options.finetune_epochs);
  }
  absl::StrAppend(&command, " --out ", options.sweep.out_dir);
  return command;
}

absl::Status FrontierCommandRun() {
  FrontierOptions options;
  RETURN_IF_ERROR(ProtocolFromFlags(&options.sweep));
  if (!absl::GetFlag(FLAGS_codecs).empty()) {
    ASSIGN_OR_RETURN(options.codecs, ParseFrontierCodecs(absl::GetFlag(FLAGS_codecs)));
  }
  ASSIGN_OR_RETURN(options.finetuned, ParseFrontierCodecs(absl::GetFlag(FLAGS_finetuned_codecs)));
  if (options.sweep.base.pq_finetune_epochs > 0) {
    options.finetune_epochs = options.sweep.base.pq_finetune_epochs;
  }
  options.sweep.base.pq_finetune_epochs = 0;  // the reference and the methods are not pq
  RETURN_IF_ERROR(MethodsFromFlag(&options.methods));
  for (absl::string_view entry :
       absl::StrSplit(absl::GetFlag(FLAGS_seeds_for), ',', absl::SkipEmpty())) {
    std::vector<std::string> parts = absl::StrSplit(entry, absl::MaxSplits('=', 1));
    int seeds = 0;
    if (parts.size() != 2 || !absl::SimpleAtoi(parts[1], &seeds) || seeds < 1) {
      return absl::InvalidArgumentError(
          absl::StrCat("--seeds_for: '", entry, "' is not NAME=SEEDS"));
    }
    options.seeds_for[parts[0]] = seeds;
  }
  const std::string& out = options.sweep.out_dir;
  RETURN_IF_ERROR(CreateDirectories(out));
  ASSIGN_OR_RETURN(std::vector<FrontierDataset> results, RunFrontier(options));
  std::string findings;
  if (absl::StatusOr<std::string> text =
          ReadFileToString(out + "/frontier_findings.md", "findings");
      text.ok()) {
    findings = *std::move(text);
  }
  RETURN_IF_ERROR(WriteFileAtomically(out + "/frontier.csv", FrontierCsv(results)));
  RETURN_IF_ERROR(WriteFileAtomically(out + "/frontier.gp", FrontierPlot(results)));
  RETURN_IF_ERROR(WriteFileAtomically(out + "/frontier.md",
                                      FrontierMarkdown(results, FrontierCommand(options),
                                                       DescribeMachine(ThisMachine()), findings)));
  if (absl::Status plot = RunProgram(out, {"gnuplot", "frontier.gp"}); !plot.ok()) {
    std::fprintf(stderr, "ranker-experiments: no plot (%s)\n", plot.ToString().c_str());
  }
  std::printf("wrote %s/frontier.md, frontier.csv, frontier.png\n", out.c_str());
  return absl::OkStatus();
}

absl::Status Run(const std::vector<char*>& args) {
  if (args.size() != 2) {
    return absl::InvalidArgumentError("give one command: sweep, frontier or retrieval");
  }
  const std::string command = args[1];
  if (command == "sweep") return SweepCommand();
  if (command == "frontier") return FrontierCommandRun();
  if (command == "retrieval") return RetrievalCommand();
  return absl::InvalidArgumentError(absl::StrCat("unknown command '", command, "'"));
}

}  // namespace
}  // namespace ranker

int main(int argc, char** argv) {
  absl::Status status = ranker::Run(ranker::ParseToolCommandLine(
      argc, argv, ranker::kUsage, {"ranker_experiments_main", "train_flags"}));
  if (!status.ok()) {
    std::fprintf(stderr, "ranker-experiments: %s\n", status.ToString().c_str());
    return status.code() == absl::StatusCode::kInvalidArgument ? 2 : 1;
  }
  return 0;
}
