// The trainer's view of one embedding table: its trainable parameter tensors for any kind
// (full, hash, qr, memcom, memcom_freq), the forward lookup, the hand-written backward pass,
// and sparse Adagrad. Exported tensors have exactly the serving layout (embedding_table.h), so
// a trained table embeds identically in the server.
//
// Parameters by kind (tensor index: name [rows, width]):
//   full         0: embeddings [n, d]
//   hash         0: shared [m, d]
//   memcom       0: shared [m, d]       1: weight [n, 1]
//   memcom_freq  0: shared [m, d]       1: weight [n, 1]   2: dedicated [K, d]
//   qr           0: remainder [m, d]    1: quotient [ceil(n/m), d]
// Not thread-safe for writes; Embed/Backward are const and may run concurrently.
#ifndef RANKER_TRAINER_TRAINABLE_TABLE_H_
#define RANKER_TRAINER_TRAINABLE_TABLE_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "model/snapshot.h"

namespace ranker {

struct ParamTensor {
  std::string name;  // tensor name suffix, e.g. "shared"
  size_t rows = 0, width = 0;
  std::vector<float> values;
  std::vector<float> adagrad;  // sum of squared gradients
};

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
  // `frequencies[i]` = training interactions of entity i (memcom_freq gives its dedicated
  // rows to the most frequent). MEmCom weights start near 1; rows ~ N(0, init_scale^2).
  TrainableTable(const TableSpec& spec, const std::vector<uint32_t>& frequencies, uint64_t seed,
                 float init_scale = 0.1f);

  const TableSpec& spec() const { return spec_; }
  uint32_t dim() const { return spec_.d(); }
  std::vector<ParamTensor>& params() { return params_; }
  const std::vector<ParamTensor>& params() const { return params_; }

  void Embed(uint32_t index, float* out) const;
  // Adds the gradient of the loss w.r.t. the table's parameters, given dL/de for `index`.
  void Backward(uint32_t index, const float* grad_e, TableGradient* grad) const;
  // Sparse Adagrad on the touched rows, plus L2 `weight_decay` on those rows; clears `grad`.
  void ApplyAdagrad(TableGradient* grad, float learning_rate, float weight_decay);

  // Serving tensors and the table spec (with id map when `ids` are not 0..n-1).
  void Export(const std::vector<uint64_t>& ids, TensorMap* tensors, TableSpec* spec) const;

 private:
  uint64_t SharedRow(uint32_t index) const;

  TableSpec spec_;
  std::vector<ParamTensor> params_;
  std::vector<int32_t> dedicated_slot_;  // memcom_freq: slot per entity, -1 if shared
  std::vector<uint64_t> dedicated_ids_;  // memcom_freq: sorted entity indices
};

}  // namespace ranker

#endif  // RANKER_TRAINER_TRAINABLE_TABLE_H_
