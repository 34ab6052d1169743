#include "model_store/store_path.h"

#include <filesystem>

#include "absl/strings/str_cat.h"

namespace ranker {

namespace fs = std::filesystem;

absl::Status CheckConfinedToStore(const std::string& store_dir) {
  std::error_code ec;
  if (!fs::is_directory(store_dir, ec)) return absl::OkStatus();
  // Iteration does not descend into linked directories, so each link is seen before use.
  for (fs::recursive_directory_iterator it(store_dir, ec), end; !ec && it != end;
       it.increment(ec)) {
    if (!it->is_symlink(ec)) continue;
    std::error_code read_ec;
    const fs::path target = fs::read_symlink(it->path(), read_ec);
    return absl::FailedPreconditionError(absl::StrCat(
        "store entry '", it->path().string(), "' is a symbolic link (to '", target.string(),
        "'); the store must not lead outside its directory, so it is not opened"));
  }
  if (ec) {
    return absl::PermissionDeniedError(
        absl::StrCat("cannot list the store directory '", store_dir, "': ", ec.message()));
  }
  return absl::OkStatus();
}

}  // namespace ranker
