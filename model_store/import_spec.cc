#include "model_store/import_spec.h"

#include <filesystem>
#include <map>
#include <optional>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "common/files.h"
#include "common/status_macros.h"
#include "model/table_layout.h"
#include "model/table_sizing.h"
#include "model_store/npy.h"

namespace ranker {
namespace {

// key=value words from index `first` on.
absl::StatusOr<std::map<std::string, std::string>> KeyValues(
    const std::vector<absl::string_view>& words, size_t first) {
  std::map<std::string, std::string> out;
  for (size_t i = first; i < words.size(); ++i) {
    std::vector<std::string> kv = absl::StrSplit(words[i], absl::MaxSplits('=', 1));
    if (kv.size() != 2)
      return absl::InvalidArgumentError(absl::StrCat("'", words[i], "' is not key=value"));
    out[kv[0]] = kv[1];
  }
  return out;
}

absl::StatusOr<uint64_t> Number(const std::map<std::string, std::string>& kv,
                                const std::string& key,
                                std::optional<uint64_t> fallback = std::nullopt) {
  auto it = kv.find(key);
  if (it == kv.end()) {
    if (fallback) return *fallback;
    return absl::InvalidArgumentError(absl::StrCat("missing ", key, "="));
  }
  uint64_t value = 0;
  if (!absl::SimpleAtoi(it->second, &value)) {
    return absl::InvalidArgumentError(absl::StrCat(key, "=", it->second, " is not a number"));
  }
  return value;
}

absl::Status ParseLine(const std::vector<absl::string_view>& words, const std::string& base,
                       Snapshot* snapshot) {
  const std::string what(words[0]);
  if (what == "table" && words.size() >= 2) {
    ASSIGN_OR_RETURN(auto kv, KeyValues(words, 2));
    TableSpec* t = snapshot->manifest.add_tables();
    t->set_feature(std::string(words[1]));
    ASSIGN_OR_RETURN(TableKind kind, ParseTableKind(kv.count("kind") ? kv["kind"] : ""));
    t->set_kind(kind);
    ASSIGN_OR_RETURN(uint64_t n, Number(kv, "n"));
    ASSIGN_OR_RETURN(uint64_t d, Number(kv, "d"));
    // Kinds whose size does not depend on m (full) take m = n when it is not given.
    const TableLayout* layout = FindTableLayout(kind);
    ASSIGN_OR_RETURN(
        uint64_t m,
        Number(kv, "m", UsesSharedRows(*layout) ? std::nullopt : std::optional<uint64_t>(n)));
    ASSIGN_OR_RETURN(uint64_t dedicated, Number(kv, "dedicated", 0));
    if (d == 0 || d > 65536) return absl::InvalidArgumentError("d must be 1..65536");
    t->set_n(n);
    t->set_m(m);
    t->set_d(static_cast<uint32_t>(d));
    t->set_dedicated(dedicated);
    if (kv.count("rows")) {
      ASSIGN_OR_RETURN(RowStorage rows, ParseRowStorage(kv["rows"]));
      SetRowStorage(rows, t);
    }
    const std::string hash = kv.count("hash") ? kv["hash"] : "identity";
    if (hash == "identity") {
      t->set_hash(snapshot::IDENTITY);
    } else if (absl::StartsWith(hash, "mix:")) {
      uint64_t seed = 0;
      if (!absl::SimpleAtoi(hash.substr(4), &seed))
        return absl::InvalidArgumentError("bad hash seed");
      t->set_hash(snapshot::MIX);
      t->set_hash_seed(seed);
    } else {
      return absl::InvalidArgumentError(absl::StrCat("hash '", hash, "' (identity or mix:SEED)"));
    }
    return absl::OkStatus();
  }
  if (what == "scorer") {
    ASSIGN_OR_RETURN(auto kv, KeyValues(words, 1));
    snapshot::ScorerSpec* scorer = snapshot->manifest.mutable_scorer();
    for (absl::string_view w : absl::StrSplit(kv["widths"], ',', absl::SkipEmpty())) {
      uint32_t width = 0;
      if (!absl::SimpleAtoi(w, &width)) return absl::InvalidArgumentError("bad scorer widths");
      scorer->add_widths(width);
    }
    float dot = 0;
    if (kv.count("dot_weight") && !absl::SimpleAtof(kv["dot_weight"], &dot)) {
      return absl::InvalidArgumentError("bad dot_weight");
    }
    scorer->set_dot_weight(dot);
    return absl::OkStatus();
  }
  if (what == "tensor" && words.size() == 4 && words[2] == "=") {
    const std::string file = (std::filesystem::path(base) / std::string(words[3])).string();
    ASSIGN_OR_RETURN(snapshot->tensors[std::string(words[1])], ReadNpy(file));
    return absl::OkStatus();
  }
  return absl::InvalidArgumentError(
      "expected 'table NAME key=value...', 'scorer key=value...' or 'tensor NAME = FILE.npy'");
}

}  // namespace

absl::StatusOr<Snapshot> ImportSnapshot(const std::string& path) {
  ASSIGN_OR_RETURN(const std::string text, ReadFileToString(path, "import description"));
  const std::string base = std::filesystem::path(path).parent_path().string();
  Snapshot snapshot;
  size_t number = 0;
  for (absl::string_view line_view : absl::StrSplit(text, '\n')) {
    ++number;
    std::string line(line_view);
    const size_t hash = line.find('#');
    if (hash != std::string::npos) line.resize(hash);
    std::vector<absl::string_view> words = absl::StrSplit(line, ' ', absl::SkipWhitespace());
    if (words.empty()) continue;
    absl::Status status = ParseLine(words, base, &snapshot);
    if (!status.ok()) {
      return absl::Status(status.code(), absl::StrCat(path, ":", number, ": ", status.message()));
    }
  }
  snapshot.manifest.mutable_producer()->insert({"tool", "ranker-store import"});
  snapshot.manifest.mutable_producer()->insert({"source", path});
  for (TableSpec& t : *snapshot.manifest.mutable_tables()) {
    t.set_has_id_map(snapshot.tensors.count(TableTensorName(t.feature(), "id_map")) > 0);
  }
  return snapshot;
}

}  // namespace ranker
