// The store's key layout. Versions and chunk numbers are big-endian so keys sort numerically.
//   format                          -> kStoreFormat (marks a directory as a ranker store)
//   latest                          -> u64 version of the newest complete snapshot
//   manifest/<u64 version>          -> serialized snapshot.Manifest          (default CF)
//   tensor/<u64 version>/<name>/<u32 chunk> -> raw tensor bytes             ("tensors" CF)
//   <u64 user id>                   -> little-endian u64 item ids, oldest first ("history" CF)
// A history database (a store that holds only histories, written by a server or applier):
//   events/applied_sequence         -> u64 event-log sequence applied through  (default CF)
//   events/request/<request id>     -> u64 Unix ms it was recorded (deduplication)
#ifndef RANKER_MODEL_STORE_STORE_KEYS_H_
#define RANKER_MODEL_STORE_STORE_KEYS_H_

#include <cstdint>
#include <optional>
#include <string>

#include "absl/strings/string_view.h"

namespace ranker::store_keys {

inline constexpr char kFormatKey[] = "format";
inline constexpr char kStoreFormat[] = "memcom-ranker-store/1";
inline constexpr char kLatestKey[] = "latest";
inline constexpr char kManifestPrefix[] = "manifest/";
inline constexpr char kTensorPrefix[] = "tensor/";
inline constexpr char kTensorColumnFamily[] = "tensors";
inline constexpr char kHistoryColumnFamily[] = "history";

inline constexpr char kAppliedSequenceKey[] = "events/applied_sequence";
inline constexpr char kRequestPrefix[] = "events/request/";

std::string EncodeVersion(uint64_t version);
std::optional<uint64_t> DecodeVersion(absl::string_view bytes);

std::string ManifestKey(uint64_t version);
// Returns the version of a manifest key, or nullopt if `key` is not one.
std::optional<uint64_t> ParseManifestKey(absl::string_view key);
std::string TensorChunkKey(uint64_t version, absl::string_view name, uint32_t chunk);
// History keys sort by user id.
std::string HistoryKey(uint64_t user_id);
std::optional<uint64_t> ParseHistoryKey(absl::string_view key);
std::string RequestKey(absl::string_view request_id);
// [begin, end) covering every tensor chunk of `version`.
std::string TensorRangeBegin(uint64_t version);
std::string TensorRangeEnd(uint64_t version);

}  // namespace ranker::store_keys

#endif  // RANKER_MODEL_STORE_STORE_KEYS_H_
