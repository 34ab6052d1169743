#include "trainer/sweep_method.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
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
  return methods;
}

std::string SweepMethodName(const SweepMethod& method) {
  if (method.popularity) return "popularity";
  if (method.dot_only) return "dot";
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
  return absl::InvalidArgumentError(absl::StrCat("unknown sweep method '", name,
                                                 "' (expected one of ",
                                                 SweepMethodNames(AllSweepMethods()), ")"));
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
