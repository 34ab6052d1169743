// The quality-memory frontier of history models: for each data set, the full float32 history
// model (the reference, its weight decay searched on seed 1's validation split), every row codec
// applied to its trained tables after training (int8, pq<M>x<bits>, one storage per table), and
// trained compressed models (memcom, hash...), each over several seeds, every point evaluated on
// the test split and compared with the reference per user. Bytes are the two item tables'
// resident bytes as the server holds them (rows, weights, codes, codebooks, scales, retrieval
// row indexes; not the id maps, which any model of the catalogue needs); the whole-model ratio
// is 2 n d 4 / those bytes. Writes frontier.md, frontier.csv and frontier.png (frontier_report.h).
#ifndef RANKER_EXPERIMENTS_FRONTIER_H_
#define RANKER_EXPERIMENTS_FRONTIER_H_

#include <map>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "experiments/sweep.h"
#include "experiments/sweep_method.h"
#include "experiments/sweep_stats.h"
#include "model/table_layout.h"

namespace ranker {

// Post-training encoding of the reference's two tables: "pq16x4" (both), or
// "pq16x4/pq32x4" (input / output); a "+opq" suffix rotates both tables first
// (model/pq_rotation.h: the balanced principal axes, scores unchanged). Any row storage
// (table_layout.h) works, head/tail pq included: "head20:pq32x8+pq8x8" gives the 20% most
// popular items (by the model's training popularity) pq32x8 codes and the others pq8x8, each
// group under a codebook of its own, in both tables (model/head_tail_rows.h).
struct FrontierCodec {
  RowStorage input, output;
  bool rotated = false;
};
absl::StatusOr<FrontierCodec> ParseFrontierCodec(absl::string_view name);
absl::StatusOr<std::vector<FrontierCodec>> ParseFrontierCodecs(absl::string_view names);
std::string FrontierCodecName(const FrontierCodec& codec);
// int8 and pq at 32, 16, 8 and 4 sub-vectors of 8 and 4 bits on both tables, the uneven
// splits that spend more bytes on the output table, and the head/tail storages the budget
// rule chooses from.
std::vector<FrontierCodec> DefaultFrontierCodecs();
// memcom 16x / 16x, memcom 32x / 10.67x, memcom 4x / 4x with int8 rows, hash 16x / 16x.
std::vector<SweepMethod> DefaultFrontierMethods();

struct FrontierOptions {
  SweepOptions sweep;                    // datasets, seeds, training protocol, out_dir
  std::map<std::string, int> seeds_for;  // per data set name, instead of sweep.seeds
  std::vector<FrontierCodec> codecs = DefaultFrontierCodecs();
  std::vector<SweepMethod> methods = DefaultFrontierMethods();
  // Codecs trained into the model: the full model trained again (the reference's weight decay)
  // with these row storages, then `finetune_epochs` epochs of fine-tuning with the codes fixed.
  std::vector<FrontierCodec> finetuned;
  int finetune_epochs = 5;
};

struct FrontierPoint {
  std::string label;       // "full", "pq16x4 / pq32x4", "memcom 16x / memcom 16x"
  std::string family;      // "full", "int8", "pq", "memcom", ... (the plot's point styles)
  bool trained = true;     // false: a codec applied to the reference after training
  bool finetuned = false;  // a codec trained into the model (FrontierOptions::finetuned)
  double table_bytes = 0;  // both item tables, averaged over seeds
  double whole_ratio = 0;  // 2 n d 4 / table_bytes
  float weight_decay = 0;
  SeedMetrics metrics;  // test split
};

struct FrontierDataset {
  std::string name;
  size_t users = 0, items = 0, interactions = 0;
  int seeds = 0;
  uint32_t d = 0;
  std::vector<FrontierPoint> points;  // the reference first
  double seconds = 0;
};

absl::StatusOr<std::vector<FrontierDataset>> RunFrontier(const FrontierOptions& options);

}  // namespace ranker

#endif  // RANKER_EXPERIMENTS_FRONTIER_H_
