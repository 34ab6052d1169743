// Writes a dataset back out as the CSV the trainer reads (user,item,rating,timestamp, wire
// ids), so tests can run the command-level paths that take a file.
#ifndef RANKER_TESTS_INTERACTIONS_INTERACTIONS_CSV_H_
#define RANKER_TESTS_INTERACTIONS_INTERACTIONS_CSV_H_

#include <fstream>
#include <string>

#include "interactions/interactions.h"

namespace ranker::testing {

inline void WriteInteractionsCsv(const Dataset& data, const std::string& path) {
  std::ofstream csv(path);
  csv << "user,item,rating,timestamp\n";
  for (const Interaction& x : data.interactions) {
    csv << data.user_ids[x.user] << "," << data.item_ids[x.item] << "," << x.rating << ","
        << x.timestamp << "\n";
  }
}

}  // namespace ranker::testing

#endif  // RANKER_TESTS_INTERACTIONS_INTERACTIONS_CSV_H_
