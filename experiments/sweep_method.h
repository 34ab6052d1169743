// What one family of sweep rows trains: the popularity baseline, user-ID tables of one kind
// under the configured scorer, "dot" (full tables, the dot product alone), or a history model
// with its own input and output tables (each a kind at a fixed ratio, or one tied table).
// Table-kind names come from model/table_layout.h, so a new kind joins the sweep without edits
// here.
#ifndef RANKER_EXPERIMENTS_SWEEP_METHOD_H_
#define RANKER_EXPERIMENTS_SWEEP_METHOD_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "model/snapshot.h"

namespace ranker {

struct SweepMethod {
  bool popularity = false;          // ranks by training popularity; nothing is trained
  TableKind kind = snapshot::FULL;  // id: both tables; history: the input (or tied) table
  bool dot_only = false;            // the dot product alone instead of the configured scorer
  // History models carry their ratios (a history row is trained once, not per sweep ratio).
  bool history = false;
  double ratio = 1;  // the input (or tied) table's
  TableKind output_kind = snapshot::FULL;
  double output_ratio = 1;
  bool tied = false;  // one item table (kind at ratio) is both input and output
  bool int8 = false;  // history: rows rounded to int8 with a per-row scale (TrainOptions)

  // Compressed user-ID methods are trained once per target ratio; the others once.
  bool compressed() const { return !popularity && !history && kind != snapshot::FULL; }
  friend bool operator==(const SweepMethod&, const SweepMethod&) = default;
};

SweepMethod PopularityMethod();
SweepMethod DotMethod();
SweepMethod TablesMethod(TableKind kind);
// A history model: `input` at `input_ratio`, `output` at `output_ratio` (full ignores ratios).
SweepMethod HistoryMethod(TableKind input, double input_ratio, TableKind output = snapshot::FULL,
                          double output_ratio = 1);
// A history model with one item table of `kind` at `ratio` as input and output.
SweepMethod TiedHistoryMethod(TableKind kind, double ratio);

// "popularity", "dot", then every table kind's name (the user-ID methods).
std::vector<SweepMethod> AllSweepMethods();
// The sweep's default (popularity is always added): the user-ID methods full, dot and every
// compressed kind, then the history methods (DefaultHistoryMethods).
std::vector<SweepMethod> DefaultSweepMethods();
// Full input and output; memcom input at 4x, 16x, 64x, hash and qr input at 16x (full output);
// and the whole-model 16x variants (the two item tables together 16x smaller than full):
// memcom 16x in and out, tied memcom 8x, memcom 16x in with memcom_freq 16x out, and the
// budget split unevenly (memcom 32x in, memcom 10.67x out).
std::vector<SweepMethod> DefaultHistoryMethods();

// "memcom" for user-ID methods; "history:IN+OUT" for history models, IN and OUT being a kind
// with "@RATIO" unless full (e.g. "history:memcom@16+full"), or "history:tied:KIND@RATIO";
// ":int8" at the end for int8 rows.
std::string SweepMethodName(const SweepMethod& method);
// Comma-separated names, e.g. "full,dot,hash".
std::string SweepMethodNames(const std::vector<SweepMethod>& methods);
// INVALID_ARGUMENT, listing the valid names, for anything AllSweepMethods() does not name and
// that is not a well-formed history name.
absl::StatusOr<SweepMethod> ParseSweepMethod(absl::string_view name);
// Comma-separated; empty entries are skipped.
absl::StatusOr<std::vector<SweepMethod>> ParseSweepMethods(absl::string_view names);

}  // namespace ranker

#endif  // RANKER_EXPERIMENTS_SWEEP_METHOD_H_
