// Direct damage to a store's RocksDB (no ranker code), to prove that corruption is caught.
#ifndef RANKER_TESTS_SUPPORT_STORE_DAMAGE_H_
#define RANKER_TESTS_SUPPORT_STORE_DAMAGE_H_

#include <cstdint>
#include <functional>
#include <string>

#include "absl/status/status.h"

namespace ranker::testing {

enum class ChunkDamage { kFlipByte, kDelete, kTruncate };
// Opens the store's RocksDB directly (no ranker code) and damages one tensor chunk.
// The store must not be open as primary elsewhere.
absl::Status DamageChunk(const std::string& store_path, uint64_t version, const std::string& tensor,
                         uint32_t chunk, ChunkDamage damage);

// Opens the store's RocksDB directly and replaces the serialized manifest of `version` with
// what `rewrite` makes of it (the same precondition as DamageChunk).
absl::Status RewriteManifest(const std::string& store_path, uint64_t version,
                             const std::function<void(std::string* bytes)>& rewrite);

}  // namespace ranker::testing

#endif  // RANKER_TESTS_SUPPORT_STORE_DAMAGE_H_
