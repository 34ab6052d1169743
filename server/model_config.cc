#include "server/model_config.h"

#include <google/protobuf/io/tokenizer.h>
#include <google/protobuf/text_format.h>

#include <cmath>
#include <fstream>
#include <set>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace ranker {
namespace {

class ErrorCollector final : public google::protobuf::io::ErrorCollector {
 public:
  void AddError(int line, google::protobuf::io::ColumnNumber column,
                const std::string& message) override {
    if (first_.empty())
      first_ = absl::StrCat("line ", line + 1, ", column ", column + 1, ": ", message);
  }
  const std::string& first() const { return first_; }

 private:
  std::string first_;
};

bool WellFormedName(absl::string_view name) {
  if (name.empty() || name.size() > 64) return false;
  for (char c : name) {
    const bool ok =
        (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '.' || c == '-';
    if (!ok) return false;
  }
  return true;
}

absl::Status Invalid(size_t index, absl::string_view name, absl::string_view problem) {
  return absl::InvalidArgumentError(
      absl::StrCat("model config: models[", index, "] '", name, "': ", problem));
}

absl::Status CheckModel(size_t index, const config::ModelConfig& model) {
  const std::string& name = model.name();
  if (!WellFormedName(name)) {
    return Invalid(index, name, "the name must be 1-64 of [a-z0-9_.-]");
  }
  if (model.store().empty()) return Invalid(index, name, "no store");
  std::set<uint64_t> kept;
  const bool specific = model.version_policy().has_specific();
  if (specific) {
    if (model.version_policy().specific().versions().empty()) {
      return Invalid(index, name, "a specific version policy lists no versions");
    }
    for (uint64_t version : model.version_policy().specific().versions()) {
      if (version == 0)
        return Invalid(index, name, "version 0 does not exist (versions start at 1)");
      kept.insert(version);
    }
  }
  for (const auto& [label, version] : model.labels()) {
    if (!WellFormedName(label)) {
      return Invalid(index, name, absl::StrCat("label '", label, "' must be 1-64 of [a-z0-9_.-]"));
    }
    if (version == 0) {
      return Invalid(index, name, absl::StrCat("label '", label, "' names version 0"));
    }
    if (specific && kept.count(version) == 0) {
      return Invalid(index, name,
                     absl::StrCat("label '", label, "' names version ", version,
                                  ", which the version policy does not keep (",
                                  absl::StrJoin(kept, ", "), ")"));
    }
  }
  if (model.split().arms().empty()) return absl::OkStatus();
  std::set<std::string> arms;
  int64_t total_basis_points = 0;
  for (const config::TrafficSplit::Arm& arm : model.split().arms()) {
    if (model.labels().count(arm.label()) == 0) {
      return Invalid(
          index, name,
          absl::StrCat("split arm '", arm.label(), "' is not one of the model's labels"));
    }
    if (!arms.insert(arm.label()).second) {
      return Invalid(index, name, absl::StrCat("split arm '", arm.label(), "' appears twice"));
    }
    const double basis_points = arm.percent() * 100;
    if (!(arm.percent() > 0) || std::abs(basis_points - std::round(basis_points)) > 1e-6) {
      return Invalid(index, name,
                     absl::StrCat("split arm '", arm.label(), "': percent ", arm.percent(),
                                  " must be > 0 in steps of 0.01"));
    }
    total_basis_points += static_cast<int64_t>(std::round(basis_points));
  }
  if (total_basis_points != 10000) {
    return Invalid(index, name,
                   absl::StrCat("split arms sum to ", total_basis_points / 100.0, "%, not 100%"));
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status CheckModelConfig(const config::ModelConfigList& config) {
  if (config.models().empty()) return absl::InvalidArgumentError("model config: no models");
  std::set<std::string> names;
  for (int i = 0; i < config.models_size(); ++i) {
    const config::ModelConfig& model = config.models(i);
    if (absl::Status status = CheckModel(i, model); !status.ok()) return status;
    if (!names.insert(model.name()).second) {
      return Invalid(i, model.name(), "another model has this name");
    }
  }
  if (!config.default_model().empty() && names.count(config.default_model()) == 0) {
    return absl::InvalidArgumentError(absl::StrCat(
        "model config: default_model '", config.default_model(), "' is not one of the models"));
  }
  return absl::OkStatus();
}

absl::StatusOr<config::ModelConfigList> ParseModelConfig(absl::string_view text) {
  config::ModelConfigList config;
  google::protobuf::TextFormat::Parser parser;
  ErrorCollector errors;
  parser.RecordErrorsTo(&errors);
  if (!parser.ParseFromString(std::string(text), &config)) {
    return absl::InvalidArgumentError(absl::StrCat("model config: ", errors.first()));
  }
  if (absl::Status status = CheckModelConfig(config); !status.ok()) return status;
  return config;
}

absl::StatusOr<config::ModelConfigList> ReadModelConfig(const std::string& path) {
  std::ifstream file(path);
  if (!file) return absl::NotFoundError(absl::StrCat("cannot read the model config ", path));
  std::stringstream text;
  text << file.rdbuf();
  absl::StatusOr<config::ModelConfigList> config = ParseModelConfig(text.str());
  if (!config.ok()) {
    return absl::Status(config.status().code(),
                        absl::StrCat(path, ": ", config.status().message()));
  }
  return config;
}

config::ModelConfigList SingleStoreConfig(const std::string& store) {
  config::ModelConfigList config;
  config::ModelConfig* model = config.add_models();
  model->set_name(std::string(kDefaultModelName));
  model->set_store(store);
  return config;
}

const std::string& DefaultModelName(const config::ModelConfigList& config) {
  return config.default_model().empty() ? config.models(0).name() : config.default_model();
}

}  // namespace ranker
