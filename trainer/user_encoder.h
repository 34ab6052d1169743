// How the trainer turns a training pair's user into the scorer's user vector, and the gradient
// back into the user side's table: a row of the user table (id mode) or the mean of item_in rows
// over the user's most recent training items other than the pair's positive (history mode,
// pooled exactly as Model::Rank pools: rows summed oldest first, then times 1/count).
// Encode and Backward are const and may run concurrently with separate outputs and gradients.
#ifndef RANKER_TRAINER_USER_ENCODER_H_
#define RANKER_TRAINER_USER_ENCODER_H_

#include <cstdint>
#include <memory>
#include <vector>

#include "absl/types/span.h"
#include "trainer/split.h"
#include "trainer/trainable_table.h"

namespace ranker {

struct TrainingPair {
  uint32_t user, positive, negative;  // dense indices
};

class UserEncoder {
 public:
  virtual ~UserEncoder() = default;
  // The trainable table the user side updates ("user" or "item_in").
  virtual TrainableTable& table() = 0;
  virtual const TrainableTable& table() const = 0;
  // Writes the d floats of the pair's user vector.
  virtual void Encode(const TrainingPair& pair, float* out) const = 0;
  // Adds dL/d(table parameters) given dL/du (d floats).
  virtual void Backward(const TrainingPair& pair, const float* d_user,
                        TableGradient* grad) const = 0;
  // True if Encode depends on the positive too (so pairs sharing user and positive share u).
  virtual bool uses_positive() const = 0;
  // True if table() is the item (output) table itself: its gradients from both sides are one
  // table's and are applied once, and only the item table is exported.
  virtual bool tied() const { return false; }
};

// Id mode: u = users[pair.user].
std::unique_ptr<UserEncoder> MakeIdUserEncoder(TrainableTable users);

// History mode: u = mean of item_in[j] over j in RecentHistory(split.users[pair.user], false,
// max_history) (the most recent training items, oldest first), j != pair.positive. The
// histories are copied at construction.
std::unique_ptr<UserEncoder> MakeHistoryUserEncoder(TrainableTable items_in, const Split& split,
                                                    size_t max_history = kDefaultMaxHistory);
// History mode with tied tables: the input table is `items`, the output table itself
// (borrowed: it must outlive the encoder). tied() is true.
std::unique_ptr<UserEncoder> MakeTiedHistoryUserEncoder(TrainableTable* items, const Split& split,
                                                        size_t max_history = kDefaultMaxHistory);

// The mean of `table`'s rows for `items` other than `skip` (d floats to `out`, zeros if none;
// `row` is a d-float buffer). Returns how many rows were pooled.
uint32_t PoolRows(const TrainableTable& table, absl::Span<const uint32_t> items, int64_t skip,
                  float* out, float* row);

}  // namespace ranker

#endif  // RANKER_TRAINER_USER_ENCODER_H_
