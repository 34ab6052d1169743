#include "interactions/interactions.h"

#include <algorithm>
#include <array>
#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <system_error>
#include <utility>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "common/files.h"
#include "common/status_macros.h"

namespace ranker {
namespace {

std::vector<uint64_t> DenseIds(const std::vector<std::array<double, 4>>& raw, int column) {
  std::vector<uint64_t> ids;
  ids.reserve(raw.size());
  for (const auto& r : raw) ids.push_back(static_cast<uint64_t>(r[column]));
  std::sort(ids.begin(), ids.end());
  ids.erase(std::unique(ids.begin(), ids.end()), ids.end());
  return ids;
}

}  // namespace

absl::StatusOr<LogFormat> ParseLogFormat(const std::string& name) {
  if (name == "auto") return LogFormat::kAuto;
  if (name == "movielens-tab" || name == "udata") return LogFormat::kMovieLensTab;
  if (name == "csv") return LogFormat::kCsv;
  if (name == "spaces") return LogFormat::kSpaces;
  return absl::InvalidArgumentError(
      absl::StrCat("unknown log format '", name, "' (auto, movielens-tab, csv or spaces)"));
}

Dataset MakeDataset(std::string name, std::vector<std::array<double, 4>> raw, bool has_timestamps) {
  Dataset dataset;
  dataset.name = std::move(name);
  dataset.has_timestamps = has_timestamps;
  dataset.user_ids = DenseIds(raw, 0);
  dataset.item_ids = DenseIds(raw, 1);
  absl::flat_hash_map<uint64_t, uint32_t> user_index, item_index;
  for (uint32_t i = 0; i < dataset.user_ids.size(); ++i) user_index[dataset.user_ids[i]] = i;
  for (uint32_t i = 0; i < dataset.item_ids.size(); ++i) item_index[dataset.item_ids[i]] = i;
  // Keep one interaction per (user, item): the latest.
  std::map<std::pair<uint32_t, uint32_t>, Interaction> unique;
  for (const auto& r : raw) {
    Interaction x{user_index[static_cast<uint64_t>(r[0])], item_index[static_cast<uint64_t>(r[1])],
                  static_cast<float>(r[2]), static_cast<int64_t>(r[3])};
    auto [it, inserted] = unique.try_emplace({x.user, x.item}, x);
    if (!inserted && x.timestamp >= it->second.timestamp) it->second = x;
  }
  dataset.interactions.reserve(unique.size());
  for (const auto& [key, x] : unique) dataset.interactions.push_back(x);
  return dataset;
}

absl::StatusOr<Dataset> ReadInteractions(const std::string& path, LogFormat format,
                                         const std::string& name) {
  std::error_code error;
  const bool directory = std::filesystem::is_directory(path, error);
  if (format == LogFormat::kAuto) {
    format = absl::EndsWith(path, "u.data") || absl::EndsWith(path, ".tsv")
                 ? LogFormat::kMovieLensTab
             : directory || absl::EndsWith(path, ".txt") ? LogFormat::kSpaces
                                                         : LogFormat::kCsv;
  }
  // (file name, its text) in reading order.
  std::vector<std::pair<std::string, std::string>> parts;
  if (directory) {
    for (const char* file : {"train.txt", "valid.txt", "test.txt"}) {
      const std::string part = (std::filesystem::path(path) / file).string();
      ASSIGN_OR_RETURN(std::string text, ReadFileToString(part, "interaction log part"));
      parts.emplace_back(part, std::move(text));
    }
  } else {
    ASSIGN_OR_RETURN(std::string text, ReadFileToString(path, "interaction log"));
    parts.emplace_back(path, std::move(text));
  }
  const char separator = format == LogFormat::kMovieLensTab ? '\t' : ',';
  std::vector<std::array<double, 4>> raw;
  bool has_timestamps = true;
  for (const auto& part : parts) {
    // Named, not a structured binding: clang 14 cannot capture those in the lambda below.
    const std::string& file = part.first;
    const std::string& text = part.second;
    size_t line_number = 0;
    for (absl::string_view line : absl::StrSplit(text, '\n')) {
      ++line_number;
      if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
      if (absl::StripAsciiWhitespace(line).empty()) continue;
      std::vector<absl::string_view> fields =
          format == LogFormat::kSpaces
              ? std::vector<absl::string_view>(
                    absl::StrSplit(line, absl::ByAnyChar(" \t"), absl::SkipEmpty()))
              : std::vector<absl::string_view>(absl::StrSplit(line, separator));
      const auto fail = [&](const std::string& reason) {
        return absl::InvalidArgumentError(absl::StrCat(file, ":", line_number, ": ", reason));
      };
      uint64_t user = 0, item = 0;
      if (line_number == 1 && format == LogFormat::kCsv &&
          !absl::SimpleAtoi(absl::StripAsciiWhitespace(fields[0]), &user)) {
        continue;  // header
      }
      if (fields.size() < 2 || fields.size() > 4) {
        return fail(absl::StrCat("expected 2 to 4 fields, found ", fields.size()));
      }
      if (format == LogFormat::kMovieLensTab && fields.size() != 4) {
        return fail(absl::StrCat("expected 4 tab-separated fields, found ", fields.size()));
      }
      if (!absl::SimpleAtoi(absl::StripAsciiWhitespace(fields[0]), &user)) {
        return fail(absl::StrCat("user id '", fields[0], "' is not a non-negative integer"));
      }
      if (!absl::SimpleAtoi(absl::StripAsciiWhitespace(fields[1]), &item)) {
        return fail(absl::StrCat("item id '", fields[1], "' is not a non-negative integer"));
      }
      double rating = 1, timestamp = 0;
      if (fields.size() >= 3 &&
          (!absl::SimpleAtod(absl::StripAsciiWhitespace(fields[2]), &rating) ||
           !std::isfinite(rating))) {
        return fail(absl::StrCat("rating '", fields[2], "' is not a number"));
      }
      int64_t ts = 0;
      if (fields.size() == 4) {
        if (!absl::SimpleAtoi(absl::StripAsciiWhitespace(fields[3]), &ts)) {
          return fail(absl::StrCat("timestamp '", fields[3], "' is not an integer"));
        }
        timestamp = static_cast<double>(ts);
      } else {
        has_timestamps = false;
      }
      if (user > (uint64_t{1} << 52) || item > (uint64_t{1} << 52)) {
        return fail("id larger than 2^52");
      }
      raw.push_back({static_cast<double>(user), static_cast<double>(item), rating, timestamp});
    }
  }
  if (raw.empty()) return absl::InvalidArgumentError(absl::StrCat(path, ": no interactions"));
  if (!has_timestamps) {
    // The log's own order is the only time there is: number the lines, so that a repeated
    // pair keeps its last line and per-user histories come out in file order. The split
    // ignores these (it shuffles logs without timestamps).
    for (size_t i = 0; i < raw.size(); ++i) raw[i][3] = static_cast<double>(i);
  }
  return MakeDataset(name.empty() ? path : name, std::move(raw), has_timestamps);
}

}  // namespace ranker
