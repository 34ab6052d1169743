// The server's model config (proto/model_config.proto): parsed from text format and checked as
// a whole, so that a bad file is refused before anything is loaded and names the entry at fault.
// What can only be known by opening the stores (a store that does not exist, a labelled
// version it does not hold) is checked when the config is applied, not here.
#ifndef RANKER_SERVER_MODEL_CONFIG_H_
#define RANKER_SERVER_MODEL_CONFIG_H_

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "proto/model_config.pb.h"

namespace ranker {

// The name an empty RankRequest.model and today's single-store flags mean.
inline constexpr absl::string_view kDefaultModelName = "default";

// Parses `text` and checks it (CheckModelConfig). INVALID_ARGUMENT naming the line and column
// of a syntax error, or the entry at fault.
absl::StatusOr<config::ModelConfigList> ParseModelConfig(absl::string_view text);
// Reads `path` and parses it. NOT_FOUND if the file cannot be read.
absl::StatusOr<config::ModelConfigList> ReadModelConfig(const std::string& path);

// Every check that needs no store: at least one model; names and labels well-formed and names
// unique; a store for each model; a specific policy with versions, none 0; labels naming
// versions (not 0) that a specific policy keeps; split arms naming labels, each once, with
// percents > 0 in steps of 0.01 summing to 100; a default model that exists.
absl::Status CheckModelConfig(const config::ModelConfigList& config);

// The one-model config today's flags mean: `store` as model "default", its newest version.
config::ModelConfigList SingleStoreConfig(const std::string& store);

// The name of the default model (default_model, or the first model's name).
const std::string& DefaultModelName(const config::ModelConfigList& config);

}  // namespace ranker

#endif  // RANKER_SERVER_MODEL_CONFIG_H_
