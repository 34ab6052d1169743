// The frontier's arithmetic and reports (experiments/frontier*.h): codec names, the Pareto
// front, the best point at a ratio, paired relative losses, the goals' verdicts; and one real
// run on a small planted data set, end to end.
#include "experiments/frontier.h"

#include <gtest/gtest.h>

#include <cmath>
#include <fstream>

#include "experiments/frontier_report.h"
#include "tests/support/planted_dataset.h"
#include "tests/support/test_util.h"

namespace ranker {
namespace {

FrontierPoint Point(const std::string& label, double bytes, std::vector<double> user_ndcg) {
  FrontierPoint point;
  point.label = label;
  point.family = label;
  point.table_bytes = bytes;
  point.whole_ratio = 2.0 * 100 * 64 * 4 / bytes;
  Evaluation evaluation;
  evaluation.per_user_ndcg = user_ndcg;
  evaluation.per_user_recall = user_ndcg;
  AddSeed(evaluation, 0, &point.metrics);
  FinishSeeds(&point.metrics);
  return point;
}

FrontierDataset Dataset3() {
  FrontierDataset dataset;
  dataset.name = "toy";
  dataset.items = 100;
  dataset.seeds = 1;
  dataset.d = 64;
  dataset.points = {Point("full", 51200, {0.4, 0.2, 0.3, 0.1}),
                    Point("small-good", 3200, {0.4, 0.2, 0.3, 0.06}),  // 16x, loss 4%
                    Point("small-bad", 3000, {0.2, 0.1, 0.2, 0.1}),    // 17x, loss 40%
                    Point("tiny", 800, {0.3, 0.1, 0.2, 0.0}),          // 64x, loss 40%
                    Point("dominated", 6400, {0.3, 0.2, 0.3, 0.1})};   // 8x, worse than 16x
  return dataset;
}

TEST(FrontierTest, CodecNamesRoundTripAndBadOnesAreRefused) {
  for (const char* name : {"int8", "pq16x8", "pq16x4/pq32x4", "pq16x8+opq", "pq8x8/pq16x8+opq",
                           "head20:pq32x8+pq8x8"}) {
    auto codec = ParseFrontierCodec(name);
    ASSERT_TRUE(codec.ok()) << name;
    EXPECT_EQ(FrontierCodecName(*codec), name);
  }
  EXPECT_EQ(FrontierCodecName(*ParseFrontierCodec("pq8x8/pq8x8")), "pq8x8");
  for (const char* bad : {"pq16", "int8/pq8x8/pq4x4", "fp16", "int8+opq", "head0:pq8x8+pq4x4",
                          "head20:int8+pq8x8", "head20:pq8x8", "headx:pq8x8+pq4x4"}) {
    EXPECT_EQ(ParseFrontierCodec(bad).status().code(), absl::StatusCode::kInvalidArgument) << bad;
  }
  EXPECT_EQ(ParseFrontierCodecs("int8,,pq8x4")->size(), 2u);
}

TEST(FrontierTest, ParetoFrontBestAtRatioAndLosses) {
  const FrontierDataset dataset = Dataset3();
  // By bytes: tiny (0.15), small-bad (0.15, not better), small-good (0.24), dominated (0.225),
  // full (0.25).
  EXPECT_EQ(ParetoFront(dataset), (std::vector<size_t>{3, 1, 0}));
  EXPECT_EQ(BestAtRatio(dataset, 16), 1);
  EXPECT_EQ(BestAtRatio(dataset, 20), 3);
  EXPECT_EQ(BestAtRatio(dataset, 100), -1);
  const MeanStdErr loss = RelativeLoss(dataset, dataset.points[1]);
  EXPECT_NEAR(loss.mean, 0.01 / 0.25, 1e-12);  // mean per-user difference / reference mean
  EXPECT_GT(loss.stderr_, 0);
  EXPECT_EQ(RelativeLoss(dataset, dataset.points[0]).mean, 0);
}

TEST(FrontierTest, ReportStatesEachGoalAndMarksTheFront) {
  const std::string md = FrontierMarkdown({Dataset3()}, "the command", "a machine", "Findings.");
  EXPECT_NE(md.find("the command"), std::string::npos);
  EXPECT_NE(md.find("Findings."), std::string::npos);
  EXPECT_NE(md.find("toy: best is small-good (16.0x), loss 4.0%"), std::string::npos) << md;
  EXPECT_NE(md.find("toy: best is tiny (64.0x), loss 40.0%"), std::string::npos) << md;
  // An emulated codec is reported as such, next to the best point that is served.
  FrontierDataset with_emulated = Dataset3();
  FrontierPoint emulated = Point("head20:pq8x8+pq2x8", 3000, {0.3, 0.2, 0.3, 0.2});
  emulated.family = "pq head/tail (emulated)";
  with_emulated.points.push_back(emulated);
  const std::string md2 = FrontierMarkdown({with_emulated}, "c", "m", "");
  EXPECT_NE(md2.find("toy: best is the emulated head20:pq8x8+pq2x8 (17.1x), loss 0.0%"),
            std::string::npos)
      << md2;
  EXPECT_NE(md2.find("(not served yet); best served: small-good (16.0x), loss 4.0%"),
            std::string::npos)
      << md2;
  EXPECT_NE(md.find("| * | small-good |"), std::string::npos) << md;
  EXPECT_NE(md.find("|  | dominated |"), std::string::npos) << md;
  const std::string csv = FrontierCsv({Dataset3()});
  EXPECT_NE(csv.find("toy,small-good,small-good,1,3200,32.000,16.000"), std::string::npos) << csv;
  FrontierDataset with_comma = Dataset3();
  with_comma.points[1].label = "memcom 4x / memcom 4x, int8 rows";
  EXPECT_NE(FrontierCsv({with_comma}).find("toy,\"memcom 4x / memcom 4x, int8 rows\","),
            std::string::npos);
  EXPECT_NE(FrontierPlot({Dataset3()}).find("Pareto front"), std::string::npos);
}

// A real, small run: trains the full model, encodes it, trains memcom, writes nothing itself.
TEST(FrontierTest, RunsOnAPlantedDataSet) {
  testing::TempDir dir;
  const Dataset data = testing::PlantedDataset();
  const std::string path = dir.Sub("planted.csv");
  {
    std::ofstream out(path);
    for (const Interaction& i : data.interactions) {
      out << data.user_ids[i.user] << "," << data.item_ids[i.item] << ",1," << i.timestamp << "\n";
    }
  }
  FrontierOptions options;
  options.sweep.datasets = {{"planted", path}};
  options.sweep.seeds = 1;
  options.sweep.base.d = 16;
  options.sweep.base.max_epochs = 5;
  options.sweep.base.scorer = ScorerMode::kDot;
  options.sweep.history_weight_decay_grid = {1e-4f};
  options.codecs = *ParseFrontierCodecs("int8,pq4x4,pq4x4+opq,head25:pq8x8+pq4x4");
  options.methods = {HistoryMethod(snapshot::MEMCOM, 4, snapshot::MEMCOM, 4)};
  auto results = RunFrontier(options);
  ASSERT_TRUE(results.ok()) << results.status();
  ASSERT_EQ(results->size(), 1u);
  const FrontierDataset& planted = results->front();
  ASSERT_EQ(planted.points.size(), 6u);
  // The rotation changes the rows, not their bytes.
  EXPECT_EQ(planted.points[3].label, "pq4x4+opq");
  EXPECT_NEAR(planted.points[3].whole_ratio, planted.points[2].whole_ratio, 1e-9);
  // The head/tail codec is served: its bytes are the loaded tables' (both groups' codes and
  // codebooks, a bit per item in 64-bit words, a uint32 per 512 items), in each of two tables.
  EXPECT_EQ(planted.points[4].label, "head25:pq8x8+pq4x4");
  EXPECT_EQ(planted.points[4].family, "pq head/tail");
  const double n = static_cast<double>(planted.items), head = std::round(0.25 * n);
  const double table = head * 8 + (n - head) * 2 + 8 * 256 * 2 * 4 + 4 * 16 * 4 * 4 +
                       std::ceil(n / 64) * 8 + (std::floor(n / 512) + 1) * 4;
  EXPECT_NEAR(planted.points[4].whole_ratio, 2 * n * 16 * 4 / (2 * table), 1e-9);
  EXPECT_EQ(planted.points[0].label, "full");
  EXPECT_NEAR(planted.points[0].whole_ratio, 1.0, 1e-9);
  EXPECT_EQ(planted.points[1].label, "int8");
  EXPECT_NEAR(planted.points[1].whole_ratio, 16.0 * 4 / (16 + 4), 1e-9);  // d=16 + a scale
  EXPECT_FALSE(planted.points[2].trained);
  EXPECT_GT(planted.points[2].whole_ratio, planted.points[1].whole_ratio);
  EXPECT_TRUE(planted.points[5].trained);
  for (const FrontierPoint& point : planted.points) {
    EXPECT_GT(point.metrics.ndcg.mean, 0) << point.label;
    EXPECT_EQ(point.metrics.user_ndcg.size(), planted.points[0].metrics.user_ndcg.size());
  }
}

}  // namespace
}  // namespace ranker
