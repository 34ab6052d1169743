// ranker-store's history commands: import an interaction log into the stored histories, show
// one user's, and count them.
#include <chrono>
#include <cstdio>
#include <vector>

#include "absl/strings/str_join.h"
#include "common/fnv1a.h"
#include "common/format_bytes.h"
#include "common/status_macros.h"
#include "interactions/interactions.h"
#include "interactions/user_histories.h"
#include "model_store/cli/store_commands.h"
#include "model_store/history_store.h"

namespace ranker {

absl::Status RunHistoryImport(const std::string& store_path, const std::string& path,
                              const std::string& format_name, uint32_t history_cap) {
  ASSIGN_OR_RETURN(LogFormat format, ParseLogFormat(format_name));
  const auto start = std::chrono::steady_clock::now();
  ASSIGN_OR_RETURN(Dataset log, ReadInteractions(path, format));
  StoreOptions store_options;
  store_options.create_if_missing = true;
  ASSIGN_OR_RETURN(auto store, HistoryStore::OpenWriter(store_path, store_options));
  ASSIGN_OR_RETURN(AppendStats stats, store->Append(UserHistoriesOf(log), history_cap));
  ASSIGN_OR_RETURN(HistoryStats totals, store->Stats());
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::printf(
      "appended %lu interactions to the histories of %lu users (%lu new) in %s, %.2f s; the "
      "store holds about %lu users' histories in %s\n",
      stats.items_read, stats.users, stats.new_users, store->path().c_str(), seconds, totals.users,
      FormatBytes(totals.table_bytes).c_str());
  return absl::OkStatus();
}

absl::Status RunHistoryShow(const std::string& store_path, uint64_t user_id) {
  ASSIGN_OR_RETURN(auto store, HistoryStore::OpenReader(store_path));
  std::vector<uint64_t> items;
  RETURN_IF_ERROR(store->Read(user_id, &items));
  if (items.empty()) {
    std::printf("user %lu: no stored history\n", user_id);
    return absl::OkStatus();
  }
  std::printf("user %lu: %zu items, oldest first\n%s\n", user_id, items.size(),
              absl::StrJoin(items, ",").c_str());
  return absl::OkStatus();
}

absl::Status RunHistoryStats(const std::string& store_path) {
  ASSIGN_OR_RETURN(auto store, HistoryStore::OpenReader(store_path));
  ASSIGN_OR_RETURN(HistoryStats stats, store->Stats());
  std::printf("about %lu users with a stored history, %s of table files\n", stats.users,
              FormatBytes(stats.table_bytes).c_str());
  return absl::OkStatus();
}

absl::Status RunHistoryDigest(const std::string& store_path) {
  ASSIGN_OR_RETURN(auto store, HistoryStore::OpenReader(store_path));
  // Over every (user, length, items) in user order: order-sensitive within a history, as
  // serving is.
  Fnv1a64 digest;
  uint64_t users = 0, items = 0;
  RETURN_IF_ERROR(store->ForEach([&](uint64_t user, const std::vector<uint64_t>& history) {
    digest.Add(user);
    digest.Add(history.size());
    for (uint64_t item : history) digest.Add(item);
    ++users;
    items += history.size();
    return absl::OkStatus();
  }));
  ASSIGN_OR_RETURN(uint64_t sequence, store->AppliedSequence());
  std::printf("%lu users, %lu items, digest %016lx, applied sequence %lu\n", users, items,
              digest.value(), sequence);
  return absl::OkStatus();
}

}  // namespace ranker
