// The comparison the trainer issue asks for: popularity, uncompressed (MLP+dot and plain dot)
// and every compressed kind at each ratio, over several seeds per dataset; writes
// results.md (table), results.csv (every run) and results.png (nDCG@10 vs ratio, gnuplot).
#ifndef RANKER_TRAINER_SWEEP_H_
#define RANKER_TRAINER_SWEEP_H_

#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "trainer/trainer.h"

namespace ranker {

struct SweepOptions {
  std::vector<std::pair<std::string, std::string>> datasets;  // name, path
  std::vector<double> ratios = {4, 16, 64};
  std::vector<std::string> methods = {"full", "dot", "hash", "qr", "memcom", "memcom_freq"};
  int seeds = 3;
  std::string out_dir = "docs";
  TrainOptions base;  // kind, ratio, scorer and seed are set per run
};

absl::Status RunSweep(const SweepOptions& options);

}  // namespace ranker

#endif  // RANKER_TRAINER_SWEEP_H_
