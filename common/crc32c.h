// CRC-32C (Castagnoli: reflected polynomial 0x82F63B78, initial value and final XOR 0xFFFFFFFF)
// of a byte range. Used to verify every tensor a snapshot holds, so the results must never
// change: stored snapshots carry them.
//
// Crc32c() dispatches at run time: on x86-64 it uses the SSE4.2 crc32 instruction when the CPU
// has it and a table-driven software path otherwise; on every other architecture the SSE4.2
// path is not compiled and the software path is always used. All paths give identical
// results. Thread-safe, no allocation.
#ifndef RANKER_COMMON_CRC32C_H_
#define RANKER_COMMON_CRC32C_H_

#include <cstddef>
#include <cstdint>

namespace ranker {

// Continues a CRC over more bytes: Crc32c(b, Crc32c(a)) == Crc32c(a + b). Start with 0.
uint32_t Crc32c(const void* data, size_t size, uint32_t crc = 0);

// The two paths Crc32c() chooses between, exposed so tests can check both on any machine.
// Same contract as Crc32c().
uint32_t Crc32cSoftware(const void* data, size_t size, uint32_t crc = 0);
// True on x86-64 CPUs with SSE4.2; always false on other architectures.
bool Crc32cHardwareAvailable();
// The SSE4.2 path. When Crc32cHardwareAvailable() is false it computes in software instead
// (same result), so it never executes an unsupported instruction.
uint32_t Crc32cHardware(const void* data, size_t size, uint32_t crc = 0);

}  // namespace ranker

#endif  // RANKER_COMMON_CRC32C_H_
