// Keeps a store inside its directory: the store path given on a command line is trusted (it
// may itself be a symbolic link, e.g. onto a data disk), but nothing inside it may be a link.
// A planted link (say CURRENT or an .sst pointing at /etc/shadow or another store) would make
// RocksDB read or, for a primary, write outside the directory the operator named.
#ifndef RANKER_MODEL_STORE_STORE_PATH_H_
#define RANKER_MODEL_STORE_STORE_PATH_H_

#include <string>

#include "absl/status/status.h"

namespace ranker {

// OK if no entry under `store_dir` (recursively) is a symbolic link; otherwise
// FAILED_PRECONDITION naming the first link and where it points. A missing directory is OK
// (the caller reports it).
absl::Status CheckConfinedToStore(const std::string& store_dir);

}  // namespace ranker

#endif  // RANKER_MODEL_STORE_STORE_PATH_H_
