#include "model/id_map.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "common/status_macros.h"
#include "model/take_tensor.h"

namespace ranker {

IdMap IdMap::Dense(uint64_t n) {
  IdMap map;
  map.n_ = n;
  return map;
}

absl::StatusOr<IdMap> IdMap::Create(const TableSpec& spec, TensorMap& tensors) {
  if (!spec.has_id_map()) return Dense(spec.n());
  const std::string name = TableTensorName(spec.feature(), "id_map");
  IdMap map;
  map.n_ = spec.n();
  ASSIGN_OR_RETURN(map.ids_, TakeTensor(tensors, name, snapshot::UINT64, {spec.n()}));
  auto ids = map.ids_.as<uint64_t>();
  for (size_t i = 1; i < ids.size(); ++i) {
    if (ids[i] <= ids[i - 1]) {
      return absl::FailedPreconditionError(
          absl::StrCat("tensor '", name, "' is not strictly increasing at index ", i));
    }
  }
  return map;
}

std::optional<uint64_t> IdMap::ToIndex(uint64_t id) const {
  if (dense()) return id < n_ ? std::optional<uint64_t>(id) : std::nullopt;
  auto ids = ids_.as<uint64_t>();
  auto it = std::lower_bound(ids.begin(), ids.end(), id);
  if (it == ids.end() || *it != id) return std::nullopt;
  return static_cast<uint64_t>(it - ids.begin());
}

}  // namespace ranker
