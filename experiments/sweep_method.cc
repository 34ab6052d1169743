#include "experiments/sweep_method.h"

#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "common/status_macros.h"
#include "model/table_layout.h"

namespace ranker {

SweepMethod PopularityMethod() {
  SweepMethod method;
  method.popularity = true;
  return method;
}

SweepMethod DotMethod() {
  SweepMethod method;
  method.dot_only = true;
  return method;
}

SweepMethod TablesMethod(TableKind kind) {
  SweepMethod method;
  method.kind = kind;
  return method;
}

SweepMethod HistoryMethod(TableKind input, double input_ratio, TableKind output,
                          double output_ratio) {
  SweepMethod method;
  method.history = true;
  method.kind = input;
  method.ratio = input == snapshot::FULL ? 1 : input_ratio;
  method.output_kind = output;
  method.output_ratio = output == snapshot::FULL ? 1 : output_ratio;
  return method;
}

SweepMethod TiedHistoryMethod(TableKind kind, double ratio) {
  SweepMethod method = HistoryMethod(kind, ratio);
  method.tied = true;
  return method;
}

std::vector<SweepMethod> AllSweepMethods() {
  std::vector<SweepMethod> methods = {PopularityMethod(), DotMethod()};
  for (const TableLayout& layout : AllTableLayouts()) methods.push_back(TablesMethod(layout.kind));
  return methods;
}

std::vector<SweepMethod> DefaultSweepMethods() {
  std::vector<SweepMethod> methods = {TablesMethod(snapshot::FULL), DotMethod()};
  for (const TableLayout& layout : AllTableLayouts()) {
    if (TablesMethod(layout.kind).compressed()) methods.push_back(TablesMethod(layout.kind));
  }
  for (const SweepMethod& method : DefaultHistoryMethods()) methods.push_back(method);
  return methods;
}

std::vector<SweepMethod> DefaultHistoryMethods() {
  using snapshot::FULL, snapshot::HASH, snapshot::MEMCOM, snapshot::MEMCOM_FREQ, snapshot::QR;
  return {HistoryMethod(FULL, 1), HistoryMethod(MEMCOM, 4), HistoryMethod(MEMCOM, 16),
          HistoryMethod(MEMCOM, 64), HistoryMethod(HASH, 16), HistoryMethod(QR, 16),
          HistoryMethod(MEMCOM, 16, MEMCOM, 16), TiedHistoryMethod(MEMCOM, 8),
          HistoryMethod(MEMCOM, 16, MEMCOM_FREQ, 16),
          // 1/32 + 1/10.67 = 2/16: the same budget, more of it on the output table.
          HistoryMethod(MEMCOM, 32, MEMCOM, 10.67)};
}

namespace {

std::string TableName(TableKind kind, double ratio) {
  return kind == snapshot::FULL ? TableKindName(kind)
                                : absl::StrCat(TableKindName(kind), "@", ratio);
}

// "KIND" (full only) or "KIND@RATIO" (compressed kinds only).
absl::StatusOr<std::pair<TableKind, double>> ParseTableName(absl::string_view text) {
  std::pair<absl::string_view, absl::string_view> parts = absl::StrSplit(text, '@');
  ASSIGN_OR_RETURN(TableKind kind, ParseTableKind(std::string(parts.first)));
  double ratio = 1;
  if ((kind == snapshot::FULL) != parts.second.empty() ||
      (!parts.second.empty() && (!absl::SimpleAtod(parts.second, &ratio) || !(ratio >= 1)))) {
    return absl::InvalidArgumentError(
        absl::StrCat("'", text, "': full takes no ratio, other kinds need @RATIO (>= 1)"));
  }
  return std::make_pair(kind, ratio);
}

absl::StatusOr<SweepMethod> ParseHistoryMethod(absl::string_view name) {
  absl::string_view rest = name;
  if (!absl::ConsumePrefix(&rest, "history:")) {
    return absl::InvalidArgumentError("not a history method");
  }
  const bool int8 = absl::ConsumeSuffix(&rest, ":int8");
  if (absl::ConsumePrefix(&rest, "tied:")) {
    ASSIGN_OR_RETURN(auto table, ParseTableName(rest));
    SweepMethod method = TiedHistoryMethod(table.first, table.second);
    method.int8 = int8;
    return method;
  }
  std::pair<absl::string_view, absl::string_view> sides = absl::StrSplit(rest, '+');
  ASSIGN_OR_RETURN(auto input, ParseTableName(sides.first));
  ASSIGN_OR_RETURN(auto output, ParseTableName(sides.second));
  SweepMethod method = HistoryMethod(input.first, input.second, output.first, output.second);
  method.int8 = int8;
  return method;
}

}  // namespace

std::string SweepMethodName(const SweepMethod& method) {
  if (method.popularity) return "popularity";
  if (method.dot_only) return "dot";
  const char* int8 = method.int8 ? ":int8" : "";
  if (method.tied) {
    return absl::StrCat("history:tied:", TableName(method.kind, method.ratio), int8);
  }
  if (method.history) {
    return absl::StrCat("history:", TableName(method.kind, method.ratio), "+",
                        TableName(method.output_kind, method.output_ratio), int8);
  }
  return TableKindName(method.kind);
}

std::string SweepMethodNames(const std::vector<SweepMethod>& methods) {
  return absl::StrJoin(methods, ",", [](std::string* out, const SweepMethod& method) {
    out->append(SweepMethodName(method));
  });
}

absl::StatusOr<SweepMethod> ParseSweepMethod(absl::string_view name) {
  for (const SweepMethod& method : AllSweepMethods()) {
    if (name == SweepMethodName(method)) return method;
  }
  if (absl::StartsWith(name, "history:")) {
    absl::StatusOr<SweepMethod> method = ParseHistoryMethod(name);
    if (method.ok()) return method;
    return absl::InvalidArgumentError(
        absl::StrCat("bad history method '", name, "': ", method.status().message(),
                     " (history:IN+OUT, each KIND or KIND@RATIO, or history:tied:KIND@RATIO)"));
  }
  return absl::InvalidArgumentError(absl::StrCat(
      "unknown sweep method '", name, "' (expected one of ", SweepMethodNames(AllSweepMethods()),
      ", or a history method history:IN+OUT or history:tied:KIND@RATIO)"));
}

absl::StatusOr<std::vector<SweepMethod>> ParseSweepMethods(absl::string_view names) {
  std::vector<SweepMethod> methods;
  for (absl::string_view name : absl::StrSplit(names, ',', absl::SkipEmpty())) {
    ASSIGN_OR_RETURN(SweepMethod method, ParseSweepMethod(name));
    methods.push_back(method);
  }
  return methods;
}

}  // namespace ranker
