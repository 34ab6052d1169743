// The trainer's forward and hand-written backward pass of every table kind, one small struct
// per kind in table_gradients.cc. The forward must equal the serving one (model/
// table_forward.cc): tests/trainer/parity_test.cc holds them to it, and
// tests/trainer/gradient_test.cc holds each backward to finite differences of its forward.
#ifndef RANKER_TRAINER_TABLE_GRADIENTS_H_
#define RANKER_TRAINER_TABLE_GRADIENTS_H_

#include <cstdint>

#include "model/snapshot.h"

namespace ranker {

class TableGradient;
class TrainableTable;

struct TableGradientKind {
  TableKind kind;
  // Writes the d floats of entity `index`'s embedding.
  void (*embed)(const TrainableTable& table, uint32_t index, float* out);
  // Adds dL/dparameters given dL/de (`grad_e`, d floats) for entity `index`.
  void (*backward)(const TrainableTable& table, uint32_t index, const float* grad_e,
                   TableGradient* grad);
};

// nullptr if `kind` has no trainer.
const TableGradientKind* FindTableGradient(TableKind kind);

}  // namespace ranker

#endif  // RANKER_TRAINER_TABLE_GRADIENTS_H_
