// Whether a float tensor holds only finite values: every loaded model is checked, so this runs
// over every byte of a snapshot and must keep up with memory bandwidth.
#ifndef RANKER_MODEL_FINITE_CHECK_H_
#define RANKER_MODEL_FINITE_CHECK_H_

#include "absl/types/span.h"

namespace ranker {

// True when no value is NaN or infinite.
bool AllFinite(absl::Span<const float> values);

}  // namespace ranker

#endif  // RANKER_MODEL_FINITE_CHECK_H_
