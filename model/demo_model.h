// Deterministic synthetic models, for demos, tests and benchmarks: the same options always
// give bit-identical tensors. The values are random (no learned structure).
#ifndef RANKER_MODEL_DEMO_MODEL_H_
#define RANKER_MODEL_DEMO_MODEL_H_

#include <cstdint>
#include <optional>
#include <vector>

#include "absl/status/statusor.h"
#include "common/user_history.h"
#include "model/snapshot.h"
#include "model/table_layout.h"

namespace ranker {

struct DemoModelOptions {
  uint64_t users = 1000;
  uint64_t items = 500;
  uint32_t d = 32;
  TableKind kind = snapshot::MEMCOM;
  double ratio = 16;         // embedding compression; ignored for full
  bool clamp_ratio = false;  // use the kind's nearest reachable ratio instead of failing
  std::vector<uint32_t> hidden = {64, 32};
  float dot_weight = 1.0f;
  snapshot::HashKind hash = snapshot::IDENTITY;
  // Item ids on the wire are sparse (id = 7 * index + 3) and the snapshot carries an id map.
  bool sparse_item_ids = false;
  uint64_t seed = 42;
  // USER_MODE_HISTORY: tables "item_in" and "item" (both `kind` at `ratio`) and a popularity
  // prior; `users` is recorded for the comparison with a user-ID model.
  snapshot::UserMode user_mode = snapshot::USER_MODE_ID;
  // How both tables' d-wide rows are stored (model/row_codec.h): int8 with a per-row scale, or
  // pq codes (k-means on the random rows, seeded by `seed`).
  RowStorage rows;
  // History models: the output (item) table's storage, when not `rows`.
  std::optional<RowStorage> output_rows;
};

absl::StatusOr<Snapshot> MakeDemoSnapshot(const DemoModelOptions& options);

// Stored histories to go with a demo history model: users 0 .. users-1 (users <= options.users)
// each get 5-30 item ids (wire ids, skewed towards popular, low indices), deterministically.
std::vector<UserHistory> MakeDemoHistories(const DemoModelOptions& options, uint64_t users);

// Fills `out` with uniform values in [-scale, scale), deterministically from `seed`.
void FillUniform(uint64_t seed, float scale, float* out, size_t count);

}  // namespace ranker

#endif  // RANKER_MODEL_DEMO_MODEL_H_
