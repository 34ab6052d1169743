// CRC-32C (Castagnoli) of a byte range; uses the SSE4.2 instruction when the CPU has it.
// Thread-safe, no allocation. Used to verify every tensor a snapshot holds.
#ifndef RANKER_MODEL_STORE_CRC32C_H_
#define RANKER_MODEL_STORE_CRC32C_H_

#include <cstddef>
#include <cstdint>

namespace ranker {

// Continues a CRC over more bytes: Crc32c(b, Crc32c(a)) == Crc32c(a + b). Start with 0.
uint32_t Crc32c(const void* data, size_t size, uint32_t crc = 0);

}  // namespace ranker

#endif  // RANKER_MODEL_STORE_CRC32C_H_
