// What GetModelInfo answers about a loaded model: its version, user mode, every table (kind,
// row dtype, shape, resident and uncompressed bytes), the scorer, the compression ratios and
// the producer's notes, plus when and how fast it was loaded.
#ifndef RANKER_SERVER_MODEL_DESCRIPTION_H_
#define RANKER_SERVER_MODEL_DESCRIPTION_H_

#include "model/model.h"
#include "proto/ranker.pb.h"
#include "server/model_manager.h"

namespace ranker {

// Fills `info` from `model` (and its load figures, when `loaded` is non-null).
void DescribeModel(const Model& model, const LoadedVersion* loaded, v1::ModelInfo* info);

}  // namespace ranker

#endif  // RANKER_SERVER_MODEL_DESCRIPTION_H_
