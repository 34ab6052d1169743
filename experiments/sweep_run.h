// Runs the sweep's grid (datasets x methods x ratios x seeds) into plain results, rewriting
// results.csv after each trained run so a killed sweep keeps what it did. Errors: unreadable
// datasets, failed training, and file writes (naming the path).
#ifndef RANKER_EXPERIMENTS_SWEEP_RUN_H_
#define RANKER_EXPERIMENTS_SWEEP_RUN_H_

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "experiments/sweep.h"
#include "experiments/sweep_method.h"
#include "experiments/sweep_stats.h"

namespace ranker {

// One configuration: a method at one target ratio (1 for uncompressed methods; a history
// method's input ratio).
struct ConfigResult {
  SweepMethod method;
  double target_ratio = 1;
  double actual_ratio = 1;  // as built (clamped where the kind cannot reach the target)
  uint64_t table_bytes = 0;
  // As built, per table (user or item_in, and item; tied: the one table twice) and the served
  // model against the full user-ID model of the same data (TrainResult).
  double input_ratio = 0, output_ratio = 0, ratio_vs_full_id_model = 0;
  float weight_decay = 0;  // the one every seed used
  SeedMetrics metrics;     // test split
};

struct DatasetResult {
  std::string name;
  size_t users = 0, items = 0, interactions = 0;
  std::vector<ConfigResult> rows;  // popularity first, then options.methods in order
  // The row of `method` at `ratio` (any ratio for uncompressed methods); nullptr if none.
  const ConfigResult* Find(const SweepMethod& method, double ratio = 1) const;
};

// "memcom 16x", or the method's name for uncompressed methods; history methods as "memcom 16x /
// full" (input / output) or "tied memcom 8x".
std::string ConfigLabel(const SweepMethod& method, double target_ratio);

// The weight decays a configuration of `method` tries: options' grid for its family (dot,
// history, the others), or base.weight_decay alone when that grid is empty.
std::vector<float> WeightDecayGrid(const SweepOptions& options, const SweepMethod& method);

// The seeds' splits of the sweep's protocol: seed s (from 1) is SplitPerUser's seed.
std::vector<Split> SeedSplits(const Dataset& dataset, int seeds);

// What the sweep trains `method` with at `ratio` (a compressed user-ID method's target ratio;
// history methods carry their own): options.base with the method's kinds, ratios, scorer and
// user mode. Seed and weight decay are left for the caller.
TrainOptions MethodTrainOptions(const SweepOptions& options, const SweepMethod& method,
                                double ratio);

// Called once per seed (from 1) with that seed's selected model and its weight decay; an error
// stops the training.
using SeedTrained =
    std::function<absl::Status(int seed, const TrainResult& best, float weight_decay)>;

// Trains `method` at `ratio` on each of options.seeds splits exactly as the sweep does: on seed
// 1, once per weight decay of WeightDecayGrid (the best on validation nDCG@10 is kept, the first
// on a tie), then the chosen weight decay for every other seed. Progress goes to stderr, a
// line per training. Errors: a failed training, or on_seed's error.
absl::Status TrainSeeds(const SweepOptions& options, const Dataset& dataset,
                        const std::vector<Split>& splits, const SweepMethod& method, double ratio,
                        const SeedTrained& on_seed);

// Writes results.csv at `csv_path` (its header first).
absl::StatusOr<std::vector<DatasetResult>> RunGrid(const SweepOptions& options,
                                                   const std::string& csv_path);

}  // namespace ranker

#endif  // RANKER_EXPERIMENTS_SWEEP_RUN_H_
