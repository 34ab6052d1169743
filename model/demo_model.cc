#include "model/demo_model.h"

#include <algorithm>
#include <cmath>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/status_macros.h"
#include "model/id_hash.h"
#include "model/row_codec.h"
#include "model/table_layout.h"
#include "model/table_sizing.h"

namespace ranker {
namespace {

absl::Status AddFloat(TensorMap& tensors, const std::string& name, std::vector<uint64_t> shape,
                      uint64_t seed, float scale, float offset = 0) {
  ASSIGN_OR_RETURN(Tensor tensor, MakeFloatTensor(std::move(shape)));
  auto values = tensor.bytes.as<float>();
  FillUniform(seed, scale, values.data(), values.size());
  if (offset != 0) {
    for (float& v : values) v += offset;
  }
  tensors[name] = std::move(tensor);
  return absl::OkStatus();
}

// Demo models have no frequencies: entity subsets (memcom_freq's dedicated rows) take every
// third entity.
absl::StatusOr<Tensor> EveryThirdEntity(uint64_t count, uint64_t n) {
  std::vector<uint64_t> ids;
  for (uint64_t i = 0; i < n && ids.size() < count; i += 3) ids.push_back(i);
  for (uint64_t i = 1; i < n && ids.size() < count; i += 3) ids.push_back(i);
  for (uint64_t i = 2; i < n && ids.size() < count; i += 3) ids.push_back(i);
  std::sort(ids.begin(), ids.end());
  if (ids.size() != count) return absl::InvalidArgumentError("more dedicated rows than entities");
  return MakeUint64Tensor(ids);
}

// Parameters uniform in anchor +- 0.5 (MEmCom weights near 1, spread so entities stay distinct).
absl::Status AddTable(const TableSpec& spec, uint64_t seed, TensorMap& tensors) {
  const TableLayout* layout = FindTableLayout(spec.kind());
  if (layout == nullptr) return absl::InvalidArgumentError("unknown table kind");
  for (size_t t = 0; t < layout->tensors.size(); ++t) {
    const TensorLayout& tensor = layout->tensors[t];
    const std::vector<uint64_t> shape = TensorShape(tensor, spec);
    if (tensor.role == TensorRole::kEntitySubset) {
      ASSIGN_OR_RETURN(tensors[TensorNameOf(tensor, spec)], EveryThirdEntity(shape[0], spec.n()));
    } else {
      RETURN_IF_ERROR(
          AddFloat(tensors, TensorNameOf(tensor, spec), shape, seed + t, 0.5f, tensor.anchor));
    }
  }
  return absl::OkStatus();
}

}  // namespace

void FillUniform(uint64_t seed, float scale, float* out, size_t count) {
  for (size_t i = 0; i < count; ++i) {
    const uint64_t bits = HashId(snapshot::MIX, seed, i);
    const float unit = static_cast<float>(bits >> 40) / static_cast<float>(1 << 24);  // [0, 1)
    out[i] = (2.0f * unit - 1.0f) * scale;
  }
}

std::vector<UserHistory> MakeDemoHistories(const DemoModelOptions& options, uint64_t users) {
  std::vector<UserHistory> histories;
  histories.reserve(users);
  const uint64_t seed = options.seed * 1000 + 7;
  for (uint64_t user = 0; user < users; ++user) {
    UserHistory history{user, {}};
    const uint64_t length = 5 + HashId(snapshot::MIX, seed, user) % 26;
    for (uint64_t j = 0; j < length; ++j) {
      const uint64_t bits = HashId(snapshot::MIX, seed + 1 + j, user);
      const double unit = static_cast<double>(bits >> 11) / static_cast<double>(1ull << 53);
      // unit^2 puts half of the picks in the first quarter of the catalogue.
      const uint64_t index =
          static_cast<uint64_t>(unit * unit * static_cast<double>(options.items));
      history.items.push_back(options.sparse_item_ids ? 7 * index + 3 : index);
    }
    histories.push_back(std::move(history));
  }
  return histories;
}

absl::StatusOr<Snapshot> MakeDemoSnapshot(const DemoModelOptions& options) {
  Snapshot snapshot;
  Manifest& manifest = snapshot.manifest;
  uint64_t seed = options.seed * 1000;
  const bool history = options.user_mode == snapshot::USER_MODE_HISTORY;
  manifest.set_user_mode(options.user_mode);
  // History models have no user table: the user is pooled from "item_in" (same ids as "item").
  if (history) {
    // Demo popularity: item index i has weight 1 / (i + 1), so low indices are popular (and
    // head/tail rows give them the longer codes).
    manifest.set_users(options.users);
    ASSIGN_OR_RETURN(Tensor popularity, MakeFloatTensor({options.items}));
    auto values = popularity.bytes.as<float>();
    for (size_t i = 0; i < values.size(); ++i) values[i] = 1.0f / static_cast<float>(i + 1);
    snapshot.tensors["popularity"] = std::move(popularity);
  }
  const std::pair<std::string, uint64_t> user_source =
      history ? std::pair<std::string, uint64_t>{"item_in", options.items}
              : std::pair<std::string, uint64_t>{"user", options.users};
  for (const auto& [feature, n] :
       {user_source, std::pair<std::string, uint64_t>{"item", options.items}}) {
    ASSIGN_OR_RETURN(TableSpec spec, SizeTable(feature, options.kind, n, options.d, options.ratio,
                                               options.clamp_ratio));
    spec.set_hash(options.hash);
    spec.set_hash_seed(options.hash == snapshot::MIX ? options.seed : 0);
    if (feature != "user" && options.sparse_item_ids) {
      spec.set_has_id_map(true);
      std::vector<uint64_t> ids(n);
      for (uint64_t i = 0; i < n; ++i) ids[i] = 7 * i + 3;
      ASSIGN_OR_RETURN(snapshot.tensors[TableTensorName(feature, "id_map")], MakeUint64Tensor(ids));
    }
    RETURN_IF_ERROR(AddTable(spec, seed += 10, snapshot.tensors));
    const RowStorage& rows =
        feature == "item" && options.output_rows ? *options.output_rows : options.rows;
    RETURN_IF_ERROR(EncodeTableRows(rows, options.seed, &spec, &snapshot.tensors));
    *manifest.add_tables() = spec;
  }
  snapshot::ScorerSpec* scorer = manifest.mutable_scorer();
  std::vector<uint32_t> widths = {3 * options.d};
  widths.insert(widths.end(), options.hidden.begin(), options.hidden.end());
  widths.push_back(1);
  for (uint32_t w : widths) scorer->add_widths(w);
  scorer->set_dot_weight(options.dot_weight);
  for (size_t l = 0; l + 1 < widths.size(); ++l) {
    const float glorot = std::sqrt(6.0f / static_cast<float>(widths[l] + widths[l + 1]));
    RETURN_IF_ERROR(AddFloat(snapshot.tensors, MlpTensorName(l, "weight"),
                             {widths[l + 1], widths[l]}, seed += 10, glorot));
    RETURN_IF_ERROR(
        AddFloat(snapshot.tensors, MlpTensorName(l, "bias"), {widths[l + 1]}, seed += 10, 0.1f));
  }
  auto& producer = *manifest.mutable_producer();
  producer["tool"] = "ranker-store demo";
  producer["options"] = absl::StrCat(
      history ? "user_mode=history " : "", "users=", options.users, " items=", options.items,
      " d=", options.d, " kind=", TableKindName(options.kind), " ratio=", options.ratio,
      " hidden=", absl::StrJoin(options.hidden, ","), " dot_weight=", options.dot_weight,
      " seed=", options.seed,
      options.rows.dtype == snapshot::FLOAT32
          ? std::string()
          : absl::StrCat(" rows=", RowStorageName(options.rows)),
      options.output_rows ? absl::StrCat(" output_rows=", RowStorageName(*options.output_rows))
                          : std::string());
  return snapshot;
}

}  // namespace ranker
