// `ranker-experiments retrieval`: the curve on a trained model (its last point, N = catalogue, is
// the exhaustive ranking exactly; stage 1's recall never falls as N grows), the statistics over
// seeds, the smallest N within 1%, the report, flag validation, and a whole run's files.
#include "experiments/retrieval.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <filesystem>
#include <fstream>
#include <random>
#include <set>
#include <sstream>

#include "experiments/retrieval_curve.h"
#include "experiments/retrieval_report.h"
#include "experiments/sweep_report.h"
#include "tests/interactions/interactions_csv.h"
#include "tests/support/test_util.h"
#include "trainer/trainer.h"

namespace ranker {
namespace {

using ::ranker::testing::TempDir;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Not;

// Users of six taste clusters with 24 items each, mostly of their cluster.
Dataset ClusteredDataset() {
  std::mt19937_64 rng(5);
  std::vector<std::array<double, 4>> raw;
  const int users = 120, items = 240, clusters = 6;
  for (int u = 0; u < users; ++u) {
    std::set<int> chosen;
    while (chosen.size() < 24) {
      const bool in_cluster = rng() % 10 < 8;
      chosen.insert(in_cluster ? u % clusters + clusters * static_cast<int>(rng() % (items / 6))
                               : static_cast<int>(rng() % items));
    }
    for (int item : chosen) {
      raw.push_back({double(u + 100), double(item + 7), 4, double(rng() % 10000)});
    }
  }
  return MakeDataset("clustered", raw, true);
}

TrainOptions SmallHistoryOptions(ScorerMode scorer) {
  TrainOptions o;
  o.user_mode = snapshot::USER_MODE_HISTORY;
  o.kind = snapshot::MEMCOM;
  o.ratio = 4;
  o.output_kind = snapshot::MEMCOM;
  o.output_ratio = 4;
  o.d = 8;
  o.hidden = {8};
  o.max_epochs = 3;
  o.scorer = scorer;
  return o;
}

TEST(RetrievalCurveTest, CurveNsStopBelowTheCatalogueAndEndAtIt) {
  EXPECT_THAT(CurveNs({10, 50, 100}, 60), ElementsAre(10, 50, 60));
  EXPECT_THAT(CurveNs({10, 50, 100}, 100), ElementsAre(10, 50, 100));
  EXPECT_THAT(CurveNs({10, 50, 100}, 5), ElementsAre(5));
}

TEST(RetrievalCurveTest, RecallInside) {
  EXPECT_DOUBLE_EQ(RecallInside({1, 2, 3, 4}, {9, 4, 2}), 0.5);
  EXPECT_DOUBLE_EQ(RecallInside({1, 2}, {}), 0);
  EXPECT_DOUBLE_EQ(RecallInside({}, {1}), 1);  // nothing to miss
}

// The scorer is the MLP alone, so stage 1 (the dot product) and stage 2 disagree and
// retrieval really drops items the exhaustive ranking would show.
TEST(RetrievalCurveTest, LastPointIsExhaustiveAndRecallGrowsWithN) {
  const Dataset data = ClusteredDataset();
  const Split split = SplitPerUser(data);
  auto trained = Train(data, split, SmallHistoryOptions(ScorerMode::kMlp));
  ASSERT_TRUE(trained.ok()) << trained.status();
  const Model& model = *trained->model;
  EXPECT_TRUE(ScorerUsesMlp(model.scorer()));
  ASSERT_GT(data.items(), 100u);
  const std::vector<size_t> ns = CurveNs({1, 2, 5, 10, 20, 50, 100, 400}, data.items());
  ASSERT_THAT(ns, ElementsAre(1, 2, 5, 10, 20, 50, 100, data.items()));
  auto curve = MeasureCurve(model, data, split, ns, 2, kDefaultMaxHistory);
  ASSERT_TRUE(curve.ok()) << curve.status();
  EXPECT_FALSE(curve->exhaustive_ndcg.empty());
  EXPECT_EQ(curve->ndcg.back(), curve->exhaustive_ndcg);  // exactly, user by user
  for (double recall : curve->recall.back()) EXPECT_EQ(recall, 1);
  // Stage 1's top N are nested, so no user's recall falls as N grows.
  for (size_t p = 1; p < ns.size(); ++p) {
    for (size_t u = 0; u < curve->recall[p].size(); ++u) {
      EXPECT_GE(curve->recall[p][u], curve->recall[p - 1][u]) << "N " << ns[p] << " user " << u;
    }
  }
  const ModelCurve summary = SummarizeCurve({*curve});
  EXPECT_LT(summary.points.front().recall.mean, 1);  // N = 1 keeps at most a tenth
  EXPECT_EQ(summary.points.back().difference.mean, 0);
  EXPECT_EQ(summary.points.back().relative, 0);
  EXPECT_EQ(summary.points.back().recall.mean, 1);
  EXPECT_EQ(summary.exhaustive.mean, Summarize(curve->exhaustive_ndcg).mean);
  EXPECT_EQ(summary.mlp_seeds, 1);
}

TEST(RetrievalCurveTest, DotOnlyScorerDoesNotUseItsMlp) {
  const Dataset data = ClusteredDataset();
  const Split split = SplitPerUser(data);
  TrainOptions options = SmallHistoryOptions(ScorerMode::kDot);
  options.max_epochs = 1;
  auto trained = Train(data, split, options);
  ASSERT_TRUE(trained.ok()) << trained.status();
  EXPECT_FALSE(ScorerUsesMlp(trained->model->scorer()));
}

TEST(RetrievalCurveTest, SeedsAreAveragedPerUserThenPaired) {
  // Two seeds, two users, one N. Seed-averaged per user: two stages 0.2 and 0.5, exhaustive
  // 0.2 and 0.4, so the paired differences are 0 and 0.1.
  SeedCurve a, b;
  a.ns = b.ns = {5};
  a.mlp = true;
  a.exhaustive_ndcg = {0.2, 0.4};
  b.exhaustive_ndcg = {0.2, 0.4};
  a.ndcg = {{0.1, 0.4}};
  b.ndcg = {{0.3, 0.6}};
  a.recall = {{0.5, 1.0}};
  b.recall = {{0.7, 1.0}};
  const ModelCurve c = SummarizeCurve({a, b});
  EXPECT_EQ(c.mlp_seeds, 1);
  EXPECT_THAT(c.seed_exhaustive,
              ElementsAre(::testing::DoubleNear(0.3, 1e-12), ::testing::DoubleNear(0.3, 1e-12)));
  EXPECT_NEAR(c.exhaustive.mean, 0.3, 1e-12);
  ASSERT_EQ(c.points.size(), 1u);
  const CurvePoint& p = c.points[0];
  EXPECT_EQ(p.n, 5u);
  EXPECT_NEAR(p.ndcg.mean, 0.35, 1e-12);        // users 0.2 and 0.5
  EXPECT_NEAR(p.difference.mean, 0.05, 1e-12);  // differences 0 and 0.1
  EXPECT_NEAR(p.difference.stderr_, 0.05, 1e-12);
  EXPECT_NEAR(p.relative, 100 * 0.05 / 0.3, 1e-9);
  EXPECT_NEAR(p.relative_se, 100 * 0.05 / 0.3, 1e-9);
  EXPECT_NEAR(p.recall.mean, 0.8, 1e-12);  // users 0.6 and 1
}

RetrievalModelResult ModelWith(std::vector<std::pair<size_t, double>> points, double se = 0) {
  RetrievalModelResult model;
  model.method = HistoryMethod(snapshot::MEMCOM, 16, snapshot::MEMCOM, 16);
  model.ratio = 16;
  model.curve.exhaustive.mean = 0.2;
  model.curve.seed_exhaustive = {0.2};
  for (const auto& [n, relative] : points) {
    CurvePoint p;
    p.n = n;
    p.relative = relative;
    p.relative_se = se;
    p.recall.mean = relative == 0 ? 1 : 0.5;
    model.curve.points.push_back(p);
  }
  return model;
}

TEST(RetrievalReportTest, SmallestWithinNeedsEveryLargerNWithin) {
  const RetrievalModelResult model =
      ModelWith({{10, -5}, {20, -0.5}, {50, -2}, {100, -0.9}, {200, 1.5}, {300, 0}});
  EXPECT_EQ(SmallestWithin(model, false), 100u);  // 20 is within, but 50 is not
  const RetrievalModelResult noisy = ModelWith({{10, -0.5}, {20, -0.1}, {30, 0}}, 0.3);
  EXPECT_EQ(SmallestWithin(noisy, false), 10u);
  EXPECT_EQ(SmallestWithin(noisy, true), 20u);  // -0.5 - 1.96 * 0.3 < -1
  RetrievalDatasetResult small, large;
  small.models = {ModelWith({{10, -3}, {20, 0}})};
  large.models = {ModelWith({{10, -0.5}, {20, 0}, {50, 0}})};
  EXPECT_EQ(SmallestWithinOnAll({small, large}, 0, false), 20u);
  EXPECT_EQ(SmallestWithinOnAll({small, large}, 1, false), std::nullopt);
}

TEST(RetrievalReportTest, MarkdownCsvAndPlotScript) {
  RetrievalDatasetResult set;
  set.name = "tiny";
  set.users = 3;
  set.items = 300;
  set.interactions = 40;
  set.models = {ModelWith({{10, -5}, {100, 2}, {300, 0}})};
  RetrievalOptions options;
  options.sweep.seeds = 1;
  const std::string md =
      RetrievalMarkdown(options, {set}, ThisMachine(), 120, "the command", /*plot=*/true);
  EXPECT_THAT(md, HasSubstr("Produced by one command (2 minutes on "));
  EXPECT_THAT(md, HasSubstr("```sh\nthe command\n```"));
  EXPECT_THAT(md, HasSubstr("![two-stage nDCG@10 and recall against N](results_retrieval.png)"));
  EXPECT_THAT(md,
              HasSubstr("- history memcom 16x / memcom 16x: N = 100 [100] (tiny: 100 [100], MLP in "
                        "use in 0 of 1 seeds)\n"));
  EXPECT_THAT(md, HasSubstr("- every model above: **N = 100** [100]: from it on"));
  EXPECT_THAT(md, HasSubstr("The served scorer never uses its MLP here"));
  EXPECT_THAT(md, HasSubstr("more than 1% at: tiny, history memcom 16x / memcom 16x, N = 100"));
  EXPECT_THAT(md, HasSubstr("### tiny (3 users, 300 items, 40 interactions)"));
  EXPECT_THAT(md, HasSubstr("| 10 | 0.0000 ± 0.0000 | -5.00% ± 0.00% | 0.500 ± 0.000 |"));
  EXPECT_THAT(md, HasSubstr("| 300 (catalogue: one stage) |"));
  EXPECT_THAT(md, Not(HasSubstr("\n# ")));  // a section of results.md, not a document
  EXPECT_THAT(RetrievalMarkdown(options, {set}, ThisMachine(), 120, "cmd", false),
              Not(HasSubstr("results_retrieval.png")));
  const std::string csv = RetrievalCsv({set});
  EXPECT_EQ(std::count(csv.begin(), csv.end(), '\n'), 4);  // header and three points
  EXPECT_THAT(csv, HasSubstr("tiny,history:memcom@16+memcom@16,16,300,"));
  const std::string gp = RetrievalPlotScript({set});
  EXPECT_THAT(gp, HasSubstr("set output 'results_retrieval.png'"));
  EXPECT_THAT(gp, HasSubstr("set logscale x"));
  EXPECT_THAT(gp, HasSubstr("$d0_0 << EOD\n10 "));
  EXPECT_THAT(gp, HasSubstr("0.200000 with lines dashtype 2"));  // the exhaustive level
}

TEST(RetrievalOptionsTest, RetrieveNsParseSortedAndBadOnesSayWhich) {
  auto ns = ParseRetrieveNs("100,10,,10,5000");
  ASSERT_TRUE(ns.ok()) << ns.status();
  EXPECT_THAT(*ns, ElementsAre(10, 100, 5000));
  for (const char* bad : {"10,0", "10,x", "-5", "2.5"}) {
    auto parsed = ParseRetrieveNs(bad);
    EXPECT_EQ(parsed.status().code(), absl::StatusCode::kInvalidArgument) << bad;
    EXPECT_THAT(parsed.status().message(), HasSubstr("is not a positive integer")) << bad;
  }
  EXPECT_EQ(ParseRetrieveNs("").status().code(), absl::StatusCode::kInvalidArgument);
}

TEST(RetrievalOptionsTest, ValidationNamesWhatIsWrong) {
  RetrievalOptions ok;
  ok.sweep.datasets = {{"a", "/a.csv"}};
  EXPECT_TRUE(ValidateRetrievalOptions(ok).ok());
  EXPECT_EQ(SweepMethodNames(ok.sweep.methods),
            "history:memcom@16+full,history:memcom@16+memcom@16,full,memcom");
  const auto expect_invalid = [](const RetrievalOptions& options, const char* text) {
    const absl::Status status = ValidateRetrievalOptions(options);
    EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument) << text;
    EXPECT_THAT(status.message(), HasSubstr(text));
  };
  RetrievalOptions o = ok;
  o.sweep.datasets.clear();
  expect_invalid(o, "--datasets is required");
  o = ok;
  o.sweep.methods = {PopularityMethod()};
  expect_invalid(o, "popularity has no model");
  o = ok;
  o.sweep.methods.clear();
  expect_invalid(o, "--methods");
  o = ok;
  o.sweep.ratios.clear();
  expect_invalid(o, "--ratios: none given for the compressed user-ID method memcom");
  o = ok;
  o.sweep.ratios = {0.5};
  expect_invalid(o, "--ratios: 0.5 is below 1");
  o = ok;
  o.sweep.seeds = 0;
  expect_invalid(o, "--seeds must be at least 1");
  o = ok;
  o.sweep.base.threads = 0;
  expect_invalid(o, "--threads must be at least 1");
  o = ok;
  o.retrieve_ns = {10, 10};
  expect_invalid(o, "positive and increasing");
  o = ok;
  o.retrieve_ns = {0, 10};
  expect_invalid(o, "positive and increasing");
  o = ok;
  o.retrieve_ns.clear();
  expect_invalid(o, "--retrieve_ns");
  // An invalid run writes nothing.
  TempDir dir;
  o.sweep.out_dir = dir.Sub("out");
  EXPECT_EQ(RunRetrieval(o).code(), absl::StatusCode::kInvalidArgument);
  EXPECT_FALSE(std::filesystem::exists(dir.Sub("out")));
}

TEST(RetrievalOptionsTest, CommandRepeatsTheRun) {
  RetrievalOptions options;
  options.sweep.datasets = {{"a", "x/a.csv"}, {"b", "y/b.data"}};
  options.sweep.seeds = 2;
  options.retrieve_ns = {10, 100};
  EXPECT_EQ(
      RetrievalCommand(options),
      "build/experiments/ranker-experiments retrieval --datasets a=x/a.csv,b=y/b.data --methods "
      "history:memcom@16+full,history:memcom@16+memcom@16,full,memcom --retrieve_ns 10,100 "
      "--seeds 2 --ratios 16 --threads 2 --out docs");
}

std::string ReadAll(const std::string& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

TEST(RetrievalRunTest, WritesReportCsvAndPlot) {
  TempDir dir;
  const Dataset data = ClusteredDataset();
  testing::WriteInteractionsCsv(data, dir.Sub("clustered.csv"));
  RetrievalOptions options;
  options.sweep.datasets = {{"clustered", dir.Sub("clustered.csv")}};
  options.sweep.methods = {HistoryMethod(snapshot::MEMCOM, 4, snapshot::MEMCOM, 4)};
  options.sweep.seeds = 1;
  options.sweep.out_dir = dir.Sub("out");
  options.sweep.base = SmallHistoryOptions(ScorerMode::kMlpDot);
  options.sweep.base.max_epochs = 2;
  options.retrieve_ns = {5, 50, 1000};
  ASSERT_TRUE(RunRetrieval(options).ok());
  const std::string md = ReadAll(dir.Sub("out/results_retrieval.md"));
  EXPECT_THAT(md, HasSubstr("#### history memcom 4x / memcom 4x on clustered"));
  const std::string catalogue = std::to_string(data.items());
  EXPECT_THAT(md, HasSubstr("| " + catalogue + " (catalogue: one stage) | "));
  EXPECT_THAT(md, HasSubstr("| 50 | "));
  EXPECT_THAT(md, Not(HasSubstr("| 1000")));  // above the catalogue: not measured
  EXPECT_THAT(ReadAll(dir.Sub("out/results_retrieval.csv")),
              HasSubstr("," + catalogue + ",120,1,"));
  EXPECT_GT(std::filesystem::file_size(dir.Sub("out/results_retrieval.png")), 1000u);
}

}  // namespace
}  // namespace ranker
