// What one family of sweep rows trains: the popularity baseline, tables of one kind under the
// configured scorer, or "dot" (full tables, the dot product alone). Table-kind names come from
// model/table_layout.h, so a new kind joins the sweep without edits here.
#ifndef RANKER_TRAINER_SWEEP_METHOD_H_
#define RANKER_TRAINER_SWEEP_METHOD_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "model/snapshot.h"

namespace ranker {

struct SweepMethod {
  bool popularity = false;          // ranks by training popularity; nothing is trained
  TableKind kind = snapshot::FULL;  // the tables trained (unused for popularity)
  bool dot_only = false;            // the dot product alone instead of the configured scorer

  // Compressed methods are trained once per target ratio; the others once.
  bool compressed() const { return !popularity && kind != snapshot::FULL; }
  friend bool operator==(const SweepMethod&, const SweepMethod&) = default;
};

SweepMethod PopularityMethod();
SweepMethod DotMethod();
SweepMethod TablesMethod(TableKind kind);

// "popularity", "dot", then every table kind's name.
std::vector<SweepMethod> AllSweepMethods();
// full, dot and every compressed kind: the sweep's default (popularity is always added).
std::vector<SweepMethod> DefaultSweepMethods();

std::string SweepMethodName(const SweepMethod& method);
// Comma-separated names, e.g. "full,dot,hash".
std::string SweepMethodNames(const std::vector<SweepMethod>& methods);
// INVALID_ARGUMENT, listing the valid names, for anything AllSweepMethods() does not name.
absl::StatusOr<SweepMethod> ParseSweepMethod(absl::string_view name);
// Comma-separated; empty entries are skipped.
absl::StatusOr<std::vector<SweepMethod>> ParseSweepMethods(absl::string_view names);

}  // namespace ranker

#endif  // RANKER_TRAINER_SWEEP_METHOD_H_
