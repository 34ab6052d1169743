// The trainer's view of one embedding table of any kind: its trainable parameter tensors (the
// kind's layout, model/table_layout.h, in the same order), the forward lookup and hand-written
// backward pass (table_gradients.h), and sparse Adagrad or Adam. Export writes exactly the serving
// tensors, and tests/trainer/trainable_table_test.cc checks that the server embeds what was
// trained. Not thread-safe for writes; Embed/Backward are const and may run concurrently.
#ifndef RANKER_TRAINER_TRAINABLE_TABLE_H_
#define RANKER_TRAINER_TRAINABLE_TABLE_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "model/snapshot.h"
#include "model/table_layout.h"

namespace ranker {

struct TableGradientKind;

struct ParamTensor {
  std::string name;  // the layout's part, e.g. "shared"
  size_t rows = 0, width = 0;
  float anchor = 0;  // where weight decay pulls (the layout's anchor)
  std::vector<float> values;
  std::vector<float> adagrad;  // Adagrad: sum of squared gradients
  // Adam: first and second moments, allocated at the first Adam step.
  std::vector<float> adam_m, adam_v;
};

// How table rows learn. Adagrad's steps shrink with every gradient a row has seen; Adam's do
// not, which matters on sparse data where a row sees few gradients and needs them to count.
enum class TableOptimizer { kAdagrad, kAdam };
absl::StatusOr<TableOptimizer> ParseTableOptimizer(const std::string& name);
std::string TableOptimizerName(TableOptimizer optimizer);

// Sparse gradient of a table: dense buffers plus the list of touched rows, so clearing and
// applying cost only what a batch touched. Merge() adds another in a fixed order, which keeps
// multi-threaded training deterministic.
class TableGradient {
 public:
  void Resize(const std::vector<ParamTensor>& params);
  float* Row(size_t tensor, size_t row);  // marks the row touched
  void Merge(TableGradient& other);       // this += other; other is cleared
  void Clear();
  // The accumulated gradient of element `index` of parameter tensor `tensor` (for tests).
  float Get(size_t tensor, size_t index) const { return buffers_[tensor].values[index]; }

 private:
  friend class TrainableTable;
  struct Buffer {
    size_t width = 0;
    std::vector<float> values;
    std::vector<uint8_t> touched_flag;
    std::vector<uint32_t> touched;
  };
  std::vector<Buffer> buffers_;
};

class TrainableTable {
 public:
  // `frequencies[i]` = training interactions of entity i (an entity subset, such as
  // memcom_freq's dedicated rows, goes to the most frequent). Parameters start at their
  // layout's anchor: anchor-0 tensors ~ N(0, init_scale^2), anchor-1 tensors (MEmCom weights,
  // QR quotients) ~ N(1, 0.01^2). FAILED_PRECONDITION for a kind without layout or gradient.
  static absl::StatusOr<TrainableTable> Create(const TableSpec& spec,
                                               const std::vector<uint32_t>& frequencies,
                                               uint64_t seed, float init_scale = 0.1f);

  const TableSpec& spec() const { return spec_; }
  uint32_t dim() const { return spec_.d(); }
  std::vector<ParamTensor>& params() { return params_; }
  const std::vector<ParamTensor>& params() const { return params_; }
  // The position of `index` in the table's entity subset, or -1 (also when it has none).
  int32_t SubsetSlot(uint32_t index) const {
    return subset_slot_.empty() ? -1 : subset_slot_[index];
  }

  // REQUIRES: index < spec().n(). Writes d floats.
  void Embed(uint32_t index, float* out) const;
  // Adds the gradient of the loss w.r.t. the table's parameters, given dL/de for `index`.
  void Backward(uint32_t index, const float* grad_e, TableGradient* grad) const;
  // Sparse Adagrad on the touched rows, plus L2 `weight_decay` towards each tensor's anchor
  // on those rows; clears `grad`.
  void ApplyAdagrad(TableGradient* grad, float learning_rate, float weight_decay);
  // Sparse ("lazy") Adam on the touched rows: only they update their moments, with bias
  // correction by the global step `step` (1 for the first); the same L2; clears `grad`.
  void ApplyAdam(TableGradient* grad, float learning_rate, float weight_decay, int64_t step);

  // Serving tensors and the table spec (with id map when `ids` are not 0..n-1).
  // RESOURCE_EXHAUSTED if a tensor cannot be allocated.
  absl::Status Export(const std::vector<uint64_t>& ids, TensorMap* tensors, TableSpec* spec) const;

 private:
  TrainableTable() = default;

  TableSpec spec_;
  const TableLayout* layout_ = nullptr;
  const TableGradientKind* kind_ = nullptr;
  std::vector<ParamTensor> params_;   // the layout's parameter tensors, in order
  std::vector<uint64_t> subset_ids_;  // the layout's entity subset, sorted (if it has one)
  std::vector<int32_t> subset_slot_;  // per entity: position in subset_ids_ or -1
};

}  // namespace ranker

#endif  // RANKER_TRAINER_TRAINABLE_TABLE_H_
