#include "model/model.h"

#include <algorithm>
#include <cmath>
#include <optional>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/status_macros.h"

namespace ranker {
namespace {

absl::Status CheckFinite(const TensorMap& tensors) {
  for (const auto& [name, tensor] : tensors) {
    if (tensor.dtype != snapshot::FLOAT32) continue;
    for (float v : tensor.bytes.as<float>()) {
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
  ASSIGN_OR_RETURN(model->user_, FeatureIndex(model->features_, "user"));
  ASSIGN_OR_RETURN(model->item_, FeatureIndex(model->features_, "item"));
  const uint32_t d = model->user().table.dim();
  if (model->item().table.dim() != d) {
    return absl::FailedPreconditionError(
        absl::StrCat("user d=", d, " differs from item d=", model->item().table.dim()));
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

void Model::EmbedUser(uint64_t user_id, float* out) const {
  std::optional<uint64_t> index = user().ids.ToIndex(user_id);
  if (index) {
    user().table.Embed(*index, out);
  } else {
    user().table.EmbedUnknown(user_id, out);
  }
}

void Model::EmbedItem(uint64_t item_id, float* out) const {
  std::optional<uint64_t> index = item().ids.ToIndex(item_id);
  if (index) {
    item().table.Embed(*index, out);
  } else {
    item().table.EmbedUnknown(item_id, out);
  }
}

void Model::ScoreBlock(size_t count, RankScratch* scratch) const {
  item().table.Gather(scratch->indices.data(), scratch->ids.data(), count, scratch->items.data());
  scorer_.Score(scratch->items.data(), count, scratch->scores.data(), &scratch->scorer);
  for (size_t r = 0; r < count; ++r) scratch->top_k.Push(scratch->ids[r], scratch->scores[r]);
}

void Model::Rank(uint64_t user_id, absl::Span<const uint64_t> candidates, size_t k,
                 RankScratch* scratch, RankResult* result) const {
  const uint32_t d = user().table.dim();
  result->unknown_users = user().ids.ToIndex(user_id) ? 0 : 1;
  result->unknown_items = 0;
  scratch->user.resize(d);
  EmbedUser(user_id, scratch->user.data());
  scorer_.PrepareUser(scratch->user.data(), &scratch->scorer);
  scratch->top_k.Reset(k);
  scratch->ids.resize(kBlockSize);
  scratch->indices.resize(kBlockSize);
  scratch->items.resize(kBlockSize * d);
  scratch->scores.resize(kBlockSize);

  if (candidates.empty()) {
    const uint64_t n = item().table.size();
    for (uint64_t begin = 0; begin < n; begin += kBlockSize) {
      const size_t count = std::min<uint64_t>(kBlockSize, n - begin);
      for (size_t r = 0; r < count; ++r) {
        scratch->indices[r] = begin + r;
        scratch->ids[r] = item().ids.ToId(begin + r);
      }
      ScoreBlock(count, scratch);
    }
  } else {
    std::vector<uint64_t>& unique = scratch->unique_ids;
    unique.assign(candidates.begin(), candidates.end());
    std::sort(unique.begin(), unique.end());
    unique.erase(std::unique(unique.begin(), unique.end()), unique.end());
    for (size_t begin = 0; begin < unique.size(); begin += kBlockSize) {
      const size_t count = std::min(kBlockSize, unique.size() - begin);
      for (size_t r = 0; r < count; ++r) {
        const uint64_t id = unique[begin + r];
        const std::optional<uint64_t> index = item().ids.ToIndex(id);
        scratch->ids[r] = id;
        scratch->indices[r] = index ? *index : EmbeddingTable::kUnknown;
        result->unknown_items += index ? 0 : 1;
      }
      ScoreBlock(count, scratch);
    }
  }
  scratch->top_k.TakeSorted(&result->items);
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
  size_t bytes = scorer_.resident_bytes();
  for (const Feature& f : features_) bytes += table_resident_bytes(f);
  return bytes;
}

size_t Model::uncompressed_bytes() const {
  size_t bytes = scorer_.resident_bytes();
  for (const Feature& f : features_) {
    bytes += f.ids.resident_bytes() + f.table.size() * f.table.dim() * sizeof(float);
  }
  return bytes;
}

double Model::compression_ratio() const {
  double full = 0, compressed = 0;
  for (const Feature& f : features_) {
    full += static_cast<double>(f.table.size()) * f.table.dim();
    compressed += static_cast<double>(f.table.parameters());
  }
  return compressed > 0 ? full / compressed : 0;
}

}  // namespace ranker
