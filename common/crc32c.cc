#include "common/crc32c.h"

#include <array>
#include <cstring>

namespace ranker {
namespace {

constexpr uint32_t kPolynomial = 0x82F63B78u;  // reflected Castagnoli

constexpr std::array<uint32_t, 256> MakeTable() {
  std::array<uint32_t, 256> table{};
  for (uint32_t i = 0; i < 256; ++i) {
    uint32_t c = i;
    for (int k = 0; k < 8; ++k) c = (c & 1) ? (c >> 1) ^ kPolynomial : c >> 1;
    table[i] = c;
  }
  return table;
}
constexpr std::array<uint32_t, 256> kTable = MakeTable();

// Both raw paths work on the inverted CRC (no initial or final XOR).
uint32_t SoftwareCrc(const unsigned char* p, size_t size, uint32_t crc) {
  for (size_t i = 0; i < size; ++i) crc = kTable[(crc ^ p[i]) & 0xFF] ^ (crc >> 8);
  return crc;
}

#if defined(__x86_64__)
__attribute__((target("sse4.2"))) uint32_t HardwareCrc(const unsigned char* p, size_t size,
                                                       uint32_t crc) {
  uint64_t c = crc;
  while (size >= 8) {
    uint64_t word;
    std::memcpy(&word, p, 8);
    c = __builtin_ia32_crc32di(c, word);
    p += 8;
    size -= 8;
  }
  auto c32 = static_cast<uint32_t>(c);
  while (size > 0) {
    c32 = __builtin_ia32_crc32qi(c32, *p++);
    --size;
  }
  return c32;
}

bool DetectSse42() {
  __builtin_cpu_init();  // safe even if called before libgcc's own initialiser has run
  return __builtin_cpu_supports("sse4.2");
}
#endif

}  // namespace

bool Crc32cHardwareAvailable() {
#if defined(__x86_64__)
  static const bool available = DetectSse42();
  return available;
#else
  return false;
#endif
}

uint32_t Crc32cSoftware(const void* data, size_t size, uint32_t crc) {
  return ~SoftwareCrc(static_cast<const unsigned char*>(data), size, ~crc);
}

uint32_t Crc32cHardware(const void* data, size_t size, uint32_t crc) {
#if defined(__x86_64__)
  if (Crc32cHardwareAvailable()) {
    return ~HardwareCrc(static_cast<const unsigned char*>(data), size, ~crc);
  }
#endif
  return Crc32cSoftware(data, size, crc);
}

uint32_t Crc32c(const void* data, size_t size, uint32_t crc) {
  return Crc32cHardware(data, size, crc);
}

}  // namespace ranker
