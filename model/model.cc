#include "model/model.h"

#include <algorithm>
#include <cmath>

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

absl::StatusOr<Feature> CreateFeature(const Manifest& manifest, const std::string& name,
                                      TensorMap& tensors) {
  for (const TableSpec& spec : manifest.tables()) {
    if (spec.feature() != name) continue;
    ASSIGN_OR_RETURN(IdMap ids, IdMap::Create(spec, tensors));
    ASSIGN_OR_RETURN(EmbeddingTable table, EmbeddingTable::Create(spec, tensors));
    return Feature{std::move(ids), std::move(table)};
  }
  return absl::FailedPreconditionError(absl::StrCat("manifest has no '", name, "' table"));
}

}  // namespace

absl::StatusOr<std::unique_ptr<const Model>> Model::Create(Manifest manifest, TensorMap tensors) {
  RETURN_IF_ERROR(CheckFinite(tensors));
  std::unique_ptr<Model> model(new Model());
  ASSIGN_OR_RETURN(model->user_, CreateFeature(manifest, "user", tensors));
  ASSIGN_OR_RETURN(model->item_, CreateFeature(manifest, "item", tensors));
  const uint32_t d = model->user_.table.dim();
  if (model->item_.table.dim() != d) {
    return absl::FailedPreconditionError(
        absl::StrCat("user d=", d, " differs from item d=", model->item_.table.dim()));
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
  std::optional<uint64_t> index = user_.ids.ToIndex(user_id);
  if (index) {
    user_.table.Embed(*index, out);
  } else {
    user_.table.EmbedUnknown(user_id, out);
  }
}

void Model::EmbedItem(uint64_t item_id, float* out) const {
  std::optional<uint64_t> index = item_.ids.ToIndex(item_id);
  if (index) {
    item_.table.Embed(*index, out);
  } else {
    item_.table.EmbedUnknown(item_id, out);
  }
}

void Model::ScoreBlock(size_t count, RankScratch* scratch) const {
  item_.table.Gather(scratch->indices.data(), scratch->ids.data(), count, scratch->items.data());
  scorer_.Score(scratch->items.data(), count, scratch->scores.data(), &scratch->scorer);
  for (size_t r = 0; r < count; ++r) scratch->top_k.Push(scratch->ids[r], scratch->scores[r]);
}

void Model::Rank(uint64_t user_id, absl::Span<const uint64_t> candidates, size_t k,
                 RankScratch* scratch, RankResult* result) const {
  const uint32_t d = user_.table.dim();
  result->unknown_users = user_.ids.ToIndex(user_id) ? 0 : 1;
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
    const uint64_t n = item_.table.size();
    for (uint64_t begin = 0; begin < n; begin += kBlockSize) {
      const size_t count = std::min<uint64_t>(kBlockSize, n - begin);
      for (size_t r = 0; r < count; ++r) {
        scratch->indices[r] = begin + r;
        scratch->ids[r] = item_.ids.ToId(begin + r);
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
        const std::optional<uint64_t> index = item_.ids.ToIndex(id);
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

size_t Model::resident_bytes() const {
  return table_resident_bytes(user_) + table_resident_bytes(item_) + scorer_.resident_bytes();
}

size_t Model::uncompressed_bytes() const {
  size_t bytes = scorer_.resident_bytes() + user_.ids.resident_bytes() + item_.ids.resident_bytes();
  for (const Feature* f : {&user_, &item_})
    bytes += f->table.size() * f->table.dim() * sizeof(float);
  return bytes;
}

double Model::compression_ratio() const {
  double full = 0, compressed = 0;
  for (const Feature* f : {&user_, &item_}) {
    full += static_cast<double>(f->table.size()) * f->table.dim();
    compressed += static_cast<double>(f->table.parameters());
  }
  return compressed > 0 ? full / compressed : 0;
}

}  // namespace ranker
