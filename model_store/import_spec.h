// Builds a snapshot from tables trained elsewhere: a small text description plus one .npy
// file per tensor. The description, one statement per line ('#' starts a comment):
//
//   table user kind=memcom n=1000 m=100 d=32 [hash=identity|mix:SEED] [dedicated=K]
//   table item kind=full n=500 d=32 [rows=float32|int8|pq<M>x<bits>]
//   (rows=int8: each d-wide tensor is int8 .npy levels plus "<name>_scale", float32 [rows];
//    rows=pq16x8: each d-wide tensor is uint8 .npy codes [rows, M * bits / 8] plus
//    "<name>_codebook", float32 [M * 2^bits, d / M]; see model/pq_rows.h)
//   scorer widths=96,64,32,1 dot_weight=1.0
//   tensor user/shared = user_shared.npy        # paths relative to the description's folder
//   tensor user/id_map = user_ids.npy           # optional: uint64 wire ids, sorted
//
// Tensor names and shapes are those the server reads (see embedding_table.h and
// ranknet_scorer.h); they are checked by building the Model before anything is published.
#ifndef RANKER_MODEL_STORE_IMPORT_SPEC_H_
#define RANKER_MODEL_STORE_IMPORT_SPEC_H_

#include <string>

#include "absl/status/statusor.h"
#include "model/snapshot.h"

namespace ranker {

// Reads the description at `path` and every tensor it names. Errors name the file and line.
absl::StatusOr<Snapshot> ImportSnapshot(const std::string& path);

}  // namespace ranker

#endif  // RANKER_MODEL_STORE_IMPORT_SPEC_H_
