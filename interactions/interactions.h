// Interaction logs and their readers. Every rating is an interaction (implicit feedback).
// Ids are remapped to dense indices in increasing order of the raw id, so index order equals
// id order and the mapping can be stored in a snapshot as a sorted id map.
#ifndef RANKER_INTERACTIONS_INTERACTIONS_H_
#define RANKER_INTERACTIONS_INTERACTIONS_H_

#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace ranker {

struct Interaction {
  uint32_t user;  // dense index
  uint32_t item;  // dense index
  float rating;
  int64_t timestamp;  // 0 when the log has none
};

struct Dataset {
  std::string name;
  std::vector<Interaction> interactions;
  std::vector<uint64_t> user_ids;  // dense index -> raw id, ascending
  std::vector<uint64_t> item_ids;
  bool has_timestamps = false;
  size_t users() const { return user_ids.size(); }
  size_t items() const { return item_ids.size(); }
};

enum class LogFormat {
  kAuto,          // by name: u.data or .tsv -> kMovieLensTab, .txt or a directory -> kSpaces,
                  // else kCsv
  kMovieLensTab,  // user \t item \t rating \t timestamp, no header (MovieLens 100K u.data)
  kCsv,           // user,item[,rating[,timestamp]]; a first line that is not numeric is a header;
                  // CRLF accepted (MovieLens ratings.csv)
  kSpaces,        // user item [rating [timestamp]] separated by spaces or tabs, no header
                  // (amazon-beauty's `user item 1`)
};

absl::StatusOr<LogFormat> ParseLogFormat(const std::string& name);

// Reads a log. A malformed line is INVALID_ARGUMENT "FILE:LINE: reason". Duplicate
// (user, item) pairs are kept once (the latest). In a log without timestamps, each
// interaction's timestamp is its position in the file (has_timestamps stays false). `path` may
// be a directory holding a split someone else made (train.txt, valid.txt, test.txt, as
// amazon-beauty ships): their union is the log, in that order, and the project splits it again.
absl::StatusOr<Dataset> ReadInteractions(const std::string& path, LogFormat format,
                                         const std::string& name = "");

// Builds a dataset from raw (user, item, rating, timestamp) tuples, remapping ids densely.
Dataset MakeDataset(std::string name, std::vector<std::array<double, 4>> raw, bool has_timestamps);

}  // namespace ranker

#endif  // RANKER_INTERACTIONS_INTERACTIONS_H_
