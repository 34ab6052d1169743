// The flags that describe one training run (user mode, table kinds and ratios, dimensions,
// scorer, optimiser, seed, threads), shared by ranker-train and ranker-experiments so both
// read a configuration the same way and --help describes it once.
#ifndef RANKER_TRAINER_TRAIN_FLAGS_H_
#define RANKER_TRAINER_TRAIN_FLAGS_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "trainer/trainer.h"

namespace ranker {

// The options the flags give. INVALID_ARGUMENT names the flag that is wrong.
absl::StatusOr<TrainOptions> TrainOptionsFromFlags();

// True when --weight_decay was given: a search over weight decays must then not override it.
bool WeightDecayFlagGiven();

// "64,32" -> {64, 32}; every width positive.
absl::StatusOr<std::vector<uint32_t>> ParseWidths(const std::string& text);

}  // namespace ranker

#endif  // RANKER_TRAINER_TRAIN_FLAGS_H_
