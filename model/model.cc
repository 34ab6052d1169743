#include "model/model.h"

#include <algorithm>
#include <cmath>
#include <optional>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/status_macros.h"
#include "model/finite_check.h"
#include "model/table_sizing.h"
#include "model/take_tensor.h"

namespace ranker {
namespace {

absl::Status CheckFinite(const TensorMap& tensors) {
  for (const auto& [name, tensor] : tensors) {
    if (tensor.dtype != snapshot::FLOAT32) continue;
    const absl::Span<const float> values = tensor.bytes.as<float>();
    if (AllFinite(values)) continue;
    for (float v : values) {  // the rare failure: find the value to name it
      if (!std::isfinite(v)) {
        return absl::FailedPreconditionError(absl::StrCat("tensor '", name, "' holds ", v));
      }
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<size_t> FeatureIndex(const std::vector<Feature>& features, absl::string_view name) {
  for (size_t f = 0; f < features.size(); ++f) {
    if (features[f].name == name) return f;
  }
  return absl::FailedPreconditionError(absl::StrCat("manifest has no '", name, "' table"));
}

}  // namespace

absl::StatusOr<std::unique_ptr<const Model>> Model::Create(Manifest manifest, TensorMap tensors) {
  RETURN_IF_ERROR(CheckFinite(tensors));
  std::unique_ptr<Model> model(new Model());
  for (const TableSpec& spec : manifest.tables()) {
    if (model->FindFeature(spec.feature()) != nullptr) {
      return absl::FailedPreconditionError(
          absl::StrCat("manifest has two '", spec.feature(), "' tables"));
    }
    ASSIGN_OR_RETURN(IdMap ids, IdMap::Create(spec, tensors));
    ASSIGN_OR_RETURN(EmbeddingTable table, EmbeddingTable::Create(spec, tensors));
    model->features_.push_back(Feature{spec.feature(), std::move(ids), std::move(table)});
  }
  const bool history = manifest.user_mode() == snapshot::USER_MODE_HISTORY;
  if (!history && manifest.user_mode() != snapshot::USER_MODE_ID) {
    return absl::FailedPreconditionError(
        absl::StrCat("unknown user mode ", static_cast<int>(manifest.user_mode())));
  }
  ASSIGN_OR_RETURN(model->item_, FeatureIndex(model->features_, "item"));
  // Only the scored table is ever retrieved from.
  RETURN_IF_ERROR(model->features_[model->item_].table.EnableRetrieval());
  // A history model without an item_in table has tied tables: item rows are pooled too.
  const bool tied = history && model->FindFeature("item_in") == nullptr;
  const char* user_source = !history ? "user" : tied ? "item" : "item_in";
  size_t user_table = 0;
  ASSIGN_OR_RETURN(user_table, FeatureIndex(model->features_, user_source));
  (history ? model->item_in_ : model->user_) = user_table;
  const uint32_t d = model->features_[user_table].table.dim();
  for (const Feature& feature : model->features_) {
    if (feature.table.dim() != d) {
      return absl::FailedPreconditionError(absl::StrCat(user_source, " d=", d, " differs from ",
                                                        feature.name, " d=", feature.table.dim()));
    }
  }
  if (history) {
    ASSIGN_OR_RETURN(model->popularity_, TakeTensor(tensors, "popularity", snapshot::FLOAT32,
                                                    {model->item().table.size()}));
  }
  ASSIGN_OR_RETURN(model->scorer_, RankNetScorer::Create(manifest.scorer(), d, tensors));
  if (!tensors.empty()) {
    std::vector<std::string> extra;
    for (const auto& entry : tensors) extra.push_back(entry.first);
    std::sort(extra.begin(), extra.end());
    return absl::FailedPreconditionError(
        absl::StrCat("tensors not used by the model: ", absl::StrJoin(extra, ", ")));
  }
  model->manifest_ = std::move(manifest);
  return std::unique_ptr<const Model>(std::move(model));
}

size_t Model::table_resident_bytes(const Feature& feature) const {
  return feature.table.resident_bytes() + feature.ids.resident_bytes();
}

const Feature* Model::FindFeature(absl::string_view name) const {
  for (const Feature& feature : features_) {
    if (feature.name == name) return &feature;
  }
  return nullptr;
}

size_t Model::resident_bytes() const {
  size_t bytes = scorer_.resident_bytes() + popularity_.size();
  for (const Feature& f : features_) bytes += table_resident_bytes(f);
  return bytes;
}

size_t Model::uncompressed_bytes() const {
  size_t bytes = scorer_.resident_bytes() + popularity_.size();
  for (const Feature& f : features_) {
    bytes += f.ids.resident_bytes() + f.table.size() * f.table.dim() * sizeof(float);
  }
  return bytes;
}

double Model::compression_ratio() const {
  double full = 0, compressed = 0;
  for (const Feature& f : features_) {
    full += static_cast<double>(f.table.size()) * f.table.dim();
    // Stored bytes in floats: equal to the parameters for float32 tables, and what int8, pq
    // and head/tail rows actually take.
    compressed += static_cast<double>(StoredTableBytes(f.table.spec())) / sizeof(float);
  }
  return compressed > 0 ? full / compressed : 0;
}

}  // namespace ranker
