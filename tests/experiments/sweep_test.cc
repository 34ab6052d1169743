// The sweep's parts without training (and one short sweep that trains): method names, statistics,
// the report's text, checked file writes and the plot runner's errors.
#include "experiments/sweep.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <thread>

#include "absl/strings/str_cat.h"
#include "experiments/sweep_method.h"
#include "experiments/sweep_plot.h"
#include "experiments/sweep_report.h"
#include "experiments/sweep_run.h"
#include "experiments/sweep_stats.h"
#include "tests/interactions/interactions_csv.h"
#include "tests/support/planted_dataset.h"
#include "tests/support/test_util.h"

namespace ranker {
namespace {

using ::ranker::testing::TempDir;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Not;

TEST(SweepMethodTest, NamesRoundTrip) {
  std::vector<std::string> names;
  for (const SweepMethod& method : AllSweepMethods()) {
    names.push_back(SweepMethodName(method));
    auto parsed = ParseSweepMethod(names.back());
    ASSERT_TRUE(parsed.ok()) << parsed.status();
    EXPECT_EQ(*parsed, method) << names.back();
  }
  EXPECT_THAT(names, ElementsAre("popularity", "dot", "full", "hash", "qr", "memcom", "memcom_freq",
                                 "memcom2"));
  EXPECT_EQ(SweepMethodNames(DefaultSweepMethods()),
            "full,dot,hash,qr,memcom,memcom_freq,memcom2,history:full+full,history:memcom@4+full,"
            "history:memcom@16+full,history:memcom@64+full,history:hash@16+full,"
            "history:qr@16+full,history:memcom@16+memcom@16,history:tied:memcom@8,"
            "history:memcom@16+memcom_freq@16,history:memcom@32+memcom@10.67");
  for (const SweepMethod& method : DefaultHistoryMethods()) {
    auto parsed = ParseSweepMethod(SweepMethodName(method));
    ASSERT_TRUE(parsed.ok()) << parsed.status();
    EXPECT_EQ(*parsed, method) << SweepMethodName(method);
    EXPECT_FALSE(method.compressed());  // trained once, at its own ratios
  }
  auto list = ParseSweepMethods("full,,dot,memcom");
  ASSERT_TRUE(list.ok());
  EXPECT_THAT(*list, ElementsAre(TablesMethod(snapshot::FULL), DotMethod(),
                                 TablesMethod(snapshot::MEMCOM)));
  EXPECT_FALSE(TablesMethod(snapshot::FULL).compressed());
  EXPECT_FALSE(DotMethod().compressed());
  EXPECT_TRUE(TablesMethod(snapshot::QR).compressed());
}

TEST(SweepMethodTest, UnknownNameListsTheValidOnes) {
  for (const char* names : {"bogus", "full,bogus"}) {
    auto parsed = ParseSweepMethods(names);
    ASSERT_FALSE(parsed.ok());
    EXPECT_EQ(parsed.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_THAT(parsed.status().message(), HasSubstr("'bogus'"));
    EXPECT_THAT(parsed.status().message(),
                HasSubstr("popularity,dot,full,hash,qr,memcom,memcom_freq,memcom2"));
  }
}

TEST(SweepMethodTest, HistoryNamesParseAndBadOnesSayWhy) {
  auto tied = ParseSweepMethod("history:tied:qr@4");
  ASSERT_TRUE(tied.ok()) << tied.status();
  EXPECT_EQ(*tied, TiedHistoryMethod(snapshot::QR, 4));
  EXPECT_EQ(ConfigLabel(*tied, 4), "tied qr 4x");
  EXPECT_EQ(ConfigLabel(HistoryMethod(snapshot::MEMCOM, 16), 16), "memcom 16x / full");
  auto int8 = ParseSweepMethod("history:memcom@4+memcom@4:int8");
  ASSERT_TRUE(int8.ok()) << int8.status();
  EXPECT_TRUE(int8->int8);
  EXPECT_EQ(SweepMethodName(*int8), "history:memcom@4+memcom@4:int8");
  EXPECT_EQ(ConfigLabel(*int8, 4), "memcom 4x / memcom 4x, int8 rows");
  for (const char* bad : {"history:full@2+full", "history:memcom+full", "history:memcom@16",
                          "history:bogus@4+full", "history:memcom@0.5+full"}) {
    auto parsed = ParseSweepMethod(bad);
    EXPECT_EQ(parsed.status().code(), absl::StatusCode::kInvalidArgument) << bad;
    EXPECT_THAT(parsed.status().message(), HasSubstr(bad));
  }
}

TEST(SweepStatsTest, PairedDifferenceByHand) {
  // Differences 0.1, 0.2, 0.3: mean 0.2, sample variance 0.01, SE sqrt(0.01 / 3).
  const MeanStdErr d = PairedDifference({0.5, 0.6, 0.7}, {0.4, 0.4, 0.4});
  EXPECT_EQ(d.n, 3u);
  EXPECT_NEAR(d.mean, 0.2, 1e-12);
  EXPECT_NEAR(d.stderr_, 0.0577350269, 1e-9);
  EXPECT_DOUBLE_EQ(Min({3, 1, 2}), 1);
  EXPECT_DOUBLE_EQ(Max({3, 1, 2}), 3);
  EXPECT_DOUBLE_EQ(Mean({3, 1, 2}), 2);
  EXPECT_DOUBLE_EQ(Mean({}), 0);
}

TEST(SweepStatsTest, PerUserMetricsAreAveragedOverSeeds) {
  SeedMetrics metrics;
  Evaluation seed1, seed2;
  seed1.ndcg.mean = 0.2;
  seed1.per_user_ndcg = {0.1, 0.3};
  seed1.per_user_recall = {0.2, 0.4};
  seed2.ndcg.mean = 0.4;
  seed2.per_user_ndcg = {0.3, 0.5};
  seed2.per_user_recall = {0.4, 0.6};
  AddSeed(seed1, 1.5, &metrics);
  AddSeed(seed2, 2.5, &metrics);
  FinishSeeds(&metrics);
  EXPECT_THAT(metrics.seed_ndcg, ElementsAre(0.2, 0.4));
  EXPECT_THAT(metrics.seed_seconds, ElementsAre(1.5, 2.5));
  EXPECT_NEAR(metrics.user_ndcg[0], 0.2, 1e-12);
  EXPECT_NEAR(metrics.user_ndcg[1], 0.4, 1e-12);
  EXPECT_NEAR(metrics.ndcg.mean, 0.3, 1e-12);
  EXPECT_NEAR(metrics.recall.mean, 0.4, 1e-12);
}

ConfigResult Row(SweepMethod method, double ratio, std::vector<double> user_ndcg) {
  ConfigResult row;
  row.method = method;
  row.target_ratio = ratio;
  row.actual_ratio = ratio;
  row.metrics.seed_ndcg = {0.5};
  row.metrics.user_ndcg = std::move(user_ndcg);
  row.metrics.ndcg = Summarize(row.metrics.user_ndcg);
  return row;
}

TEST(SweepReportTest, NamesThisMachineAndComparisonsPlainly) {
  SweepOptions options;
  options.ratios = {16};
  DatasetResult dataset;
  dataset.name = "tiny";
  dataset.rows = {Row(PopularityMethod(), 1, {0.1, 0.1, 0.1}),
                  Row(TablesMethod(snapshot::FULL), 1, {0.6, 0.6, 0.8}),
                  Row(TablesMethod(snapshot::MEMCOM), 16, {0.5, 0.6, 0.7}),
                  Row(TablesMethod(snapshot::HASH), 16, {0.4, 0.4, 0.4})};
  const MachineInfo machine = ThisMachine();
  EXPECT_EQ(machine.threads, std::thread::hardware_concurrency());
  const std::string md = ReportMarkdown(options, {dataset}, machine, 60, "the command");
  EXPECT_THAT(md,
              HasSubstr(absl::StrCat(std::thread::hardware_concurrency(), " hardware threads")));
  EXPECT_THAT(md, HasSubstr(machine.cpu));
  EXPECT_THAT(md, HasSubstr(machine.os));
  EXPECT_THAT(md, Not(HasSubstr("Goal")));
  EXPECT_THAT(md, Not(HasSubstr("2-core")));
  EXPECT_THAT(md, HasSubstr("memcom vs hash at 16x: nDCG@10 difference +0.2000 ± 0.0577 (> 2 SE)"));
  EXPECT_THAT(md, HasSubstr("memcom 16x vs popularity: nDCG@10 difference +0.5000"));
  EXPECT_THAT(md, HasSubstr("| memcom 16x |"));
  EXPECT_THAT(md, HasSubstr("chosen from {1e-04, 1e-03} (plain dot product: {1e-05, 1e-04})"));
  options.weight_decay_grid.clear();
  options.dot_weight_decay_grid.clear();
  EXPECT_THAT(ReportMarkdown(options, {dataset}, machine, 60, "the command"),
              HasSubstr("every run uses the given weight decay 1e-05 (no search)"));
}

ConfigResult HistoryRow(SweepMethod method, double in, double out, std::vector<double> ndcg) {
  ConfigResult row = Row(method, method.ratio, std::move(ndcg));
  row.input_ratio = in;
  row.output_ratio = out;
  row.ratio_vs_full_id_model = 3;
  return row;
}

TEST(SweepReportTest, HistoryGoalsWithIntervals) {
  using snapshot::FULL, snapshot::HASH, snapshot::MEMCOM;
  SweepOptions options;
  options.ratios = {16};
  DatasetResult dataset;
  dataset.name = "tiny";
  dataset.rows = {Row(PopularityMethod(), 1, {0.1, 0.1, 0.1, 0.1}),
                  Row(TablesMethod(FULL), 1, {0.3, 0.3, 0.3, 0.3}),
                  HistoryRow(HistoryMethod(FULL, 1), 1, 1, {0.5, 0.6, 0.5, 0.6}),
                  HistoryRow(HistoryMethod(MEMCOM, 16), 16, 1, {0.5, 0.6, 0.5, 0.6}),
                  HistoryRow(HistoryMethod(HASH, 16), 16, 1, {0.4, 0.5, 0.4, 0.5}),
                  HistoryRow(TiedHistoryMethod(MEMCOM, 8), 8, 8, {0.25, 0.3, 0.25, 0.3})};
  const std::vector<GoalResult> goals = HistoryGoals(dataset);
  ASSERT_EQ(goals.size(), 4u);
  EXPECT_EQ(goals[0].goal, 1);
  EXPECT_TRUE(goals[0].met);
  EXPECT_EQ(goals[1].goal, 2);
  EXPECT_TRUE(goals[1].met);  // no loss at all
  EXPECT_THAT(goals[1].text, HasSubstr("relative nDCG@10 loss 0.0% (95% CI 0.0% to 0.0%)"));
  EXPECT_EQ(goals[2].what, "memcom vs hash at 16x input");
  EXPECT_TRUE(goals[2].met);
  EXPECT_EQ(goals[3].goal, 4);
  EXPECT_EQ(goals[3].what, "tied memcom 8x");
  EXPECT_FALSE(goals[3].met);  // loses half
  EXPECT_THAT(goals[3].text, HasSubstr("tables 16.0x, relative nDCG@10 loss 50.0%"));
  const std::string md =
      ReportMarkdown(options, {dataset}, ThisMachine(), 60, "cmd", "FINDINGS-TEXT\n");
  EXPECT_THAT(md, HasSubstr("FINDINGS-TEXT"));
  EXPECT_THAT(md, HasSubstr("- Goal 1, history full / full vs user-ID full: **met** on every set"));
  EXPECT_THAT(md, HasSubstr("- Goal 4, tied memcom 8x: **not met**\n"));
  EXPECT_THAT(md, HasSubstr("| tied memcom 8x | 8.00x | (tied) | 16.00x | 3.00x |"));
  EXPECT_THAT(PlotScript({dataset}), HasSubstr("title 'tiny: history models'"));
  // A second set whose tables came out at a slightly different ratio still pairs up.
  DatasetResult other = dataset;
  other.name = "other";
  other.rows.back().input_ratio = 8.05;
  const std::string both = ReportMarkdown(options, {dataset, other}, ThisMachine(), 60, "cmd");
  EXPECT_THAT(both, Not(HasSubstr("not run")));
  EXPECT_THAT(both, HasSubstr("  - other: tables 16.1x, relative nDCG@10 loss 50.0%"));
}

TEST(SweepReportTest, RetrievalSectionComesLastUnderItsHeading) {
  SweepOptions options;
  options.ratios = {16};
  DatasetResult dataset;
  dataset.name = "tiny";
  dataset.rows = {Row(PopularityMethod(), 1, {0.1, 0.1}),
                  Row(TablesMethod(snapshot::FULL), 1, {0.3, 0.4})};
  const std::string without = ReportMarkdown(options, {dataset}, ThisMachine(), 60, "cmd");
  EXPECT_THAT(without, Not(HasSubstr("Two stages")));
  const std::string with =
      ReportMarkdown(options, {dataset}, ThisMachine(), 60, "cmd", "", "RETRIEVAL-TEXT\n");
  // Exactly the report without it, then the heading and the file's text.
  EXPECT_EQ(with, without + "## Two stages: retrieval then RankNet\n\nRETRIEVAL-TEXT\n");
}

TEST(SweepFilesTest, UnwritableOutputIsAnErrorNamingThePath) {
  SweepOptions options;
  options.datasets = {{"none", "/nonexistent/data.csv"}};
  const auto grid = RunGrid(options, "/proc/forbidden/x/results.csv");
  EXPECT_FALSE(grid.ok());
  EXPECT_THAT(grid.status().message(), HasSubstr("/proc/forbidden/x/results.csv"));
  options.out_dir = "/proc/forbidden/x";
  const absl::Status sweep = RunSweep(options);
  EXPECT_FALSE(sweep.ok());
  EXPECT_THAT(sweep.message(), HasSubstr("/proc/forbidden/x"));
}

TEST(SweepPlotTest, ScriptPlotsEveryCompressedKind) {
  DatasetResult dataset;
  dataset.name = "tiny";
  dataset.rows = {Row(TablesMethod(snapshot::MEMCOM), 4, {0.5})};
  const std::string gp = PlotScript({dataset});
  EXPECT_THAT(gp, HasSubstr("$d_memcom << EOD\n4 0.5 0\nEOD\n"));
  EXPECT_THAT(gp, HasSubstr("$d_memcom_freq using 1:2:3 with yerrorlines title 'memcom_freq'"));
  EXPECT_THAT(gp, HasSubstr("set title 'tiny'"));
}

TEST(SweepRunTest, SmokeSweepWritesReportCsvAndPlot) {
  TempDir dir;
  const Dataset data = testing::PlantedDataset();
  testing::WriteInteractionsCsv(data, dir.Sub("planted.csv"));
  SweepOptions sweep;
  sweep.datasets = {{"planted", dir.Sub("planted.csv")}};
  sweep.ratios = {4};
  sweep.methods = {TablesMethod(snapshot::FULL), DotMethod(), TablesMethod(snapshot::MEMCOM)};
  sweep.seeds = 1;
  sweep.out_dir = dir.Sub("out");
  sweep.base.kind = snapshot::FULL;
  sweep.base.ratio = 4;
  sweep.base.d = 16;
  sweep.base.hidden = {16};
  sweep.base.weight_decay = 1e-4f;
  sweep.base.max_epochs = 2;
  ASSERT_TRUE(RunSweep(sweep).ok());
  std::ifstream md(dir.Sub("out/results.md"));
  std::stringstream buffer;
  buffer << md.rdbuf();
  const std::string text = buffer.str();
  EXPECT_NE(text.find("| memcom 4x |"), std::string::npos) << text;
  EXPECT_NE(text.find("| popularity |"), std::string::npos);
  EXPECT_NE(text.find("memcom 4x vs popularity: nDCG@10 difference"), std::string::npos);
  EXPECT_EQ(text.find("Goal"), std::string::npos);
  EXPECT_TRUE(std::filesystem::exists(dir.Sub("out/results.csv")));
  EXPECT_GT(std::filesystem::file_size(dir.Sub("out/results.png")), 1000u);
}

}  // namespace
}  // namespace ranker
