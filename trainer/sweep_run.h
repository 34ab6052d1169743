// Runs the sweep's grid (datasets x methods x ratios x seeds) into plain results, appending a
// results.csv row per trained run so a killed sweep keeps what it did; WriteTextFile writes the
// other outputs. Errors: unreadable datasets, failed training, and file writes (naming the path).
#ifndef RANKER_TRAINER_SWEEP_RUN_H_
#define RANKER_TRAINER_SWEEP_RUN_H_

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "trainer/sweep.h"
#include "trainer/sweep_method.h"
#include "trainer/sweep_stats.h"

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

// Writes results.csv at `csv_path` (its header first).
absl::StatusOr<std::vector<DatasetResult>> RunGrid(const SweepOptions& options,
                                                   const std::string& csv_path);

// Creates or replaces `path` with `text`. Open, write and close are checked; errors name the
// path (the sweep's other outputs, results.md and results.gp, are written with it).
absl::Status WriteTextFile(const std::string& path, absl::string_view text);

}  // namespace ranker

#endif  // RANKER_TRAINER_SWEEP_RUN_H_
