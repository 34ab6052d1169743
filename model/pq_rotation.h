// A rotation of a history model's embedding space that product quantisation loses less to
// (OPQ, Ge et al., "Optimized Product Quantization", CVPR 2013, its parametric solution): the
// principal axes of the item tables' rows, grouped so that every sub-vector of a pq code gets
// an equal share of their variance (greedy eigenvalue allocation) instead of whatever the
// trained coordinates happen to hold.
//
// With a dot-product scorer the model's scores are unchanged when every item row (input and
// output tables alike) is rotated by the same orthogonal R: (R u) . (R v) = u . v, and pooling
// is linear. So the rotation is applied to the float model before encoding and nothing about
// serving changes: the served tables are simply the rotated ones. Pure functions.
#ifndef RANKER_MODEL_PQ_ROTATION_H_
#define RANKER_MODEL_PQ_ROTATION_H_

#include <cstdint>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "model/snapshot.h"

namespace ranker {

// The d x d orthogonal matrix (row-major; a row x becomes R x) whose rows are the principal
// axes of the float rows of every full table in `snapshot` (each table's second-moment matrix
// weighted equally), ordered so that consecutive groups of d / subvectors axes have equal
// products of variances. `subvectors` should be the largest pq_subvectors the tables will be
// encoded with (its groups are then balanced for every divisor too, to within a factor).
// FAILED_PRECONDITION: no full float table, subvectors not dividing d, rows not finite.
absl::StatusOr<std::vector<float>> BalancedPqRotation(const Snapshot& snapshot,
                                                      uint32_t subvectors);

// Rotates every row of every full table of `snapshot` by `rotation` (d x d, row-major).
// FAILED_PRECONDITION, changing nothing, if the model's scores would change: a table that is not
// full float32, a user-ID model, or a scorer whose MLP reads the embeddings (any non-zero
// weight in its first layer: only a dot-product scorer is rotation-invariant).
absl::Status RotateItemTables(const std::vector<float>& rotation, Snapshot* snapshot);

}  // namespace ranker

#endif  // RANKER_MODEL_PQ_ROTATION_H_
