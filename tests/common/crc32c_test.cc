#include "common/crc32c.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <functional>
#include <random>
#include <string>
#include <vector>

namespace ranker {
namespace {

using CrcFunction = std::function<uint32_t(const void*, size_t, uint32_t)>;

struct CrcPath {
  std::string name;
  CrcFunction crc;
  bool needs_hardware;
};

std::vector<CrcPath> Paths() {
  return {{"Dispatch", [](const void* d, size_t n, uint32_t c) { return Crc32c(d, n, c); }, false},
          {"Software", [](const void* d, size_t n, uint32_t c) { return Crc32cSoftware(d, n, c); },
           false},
          {"Hardware", [](const void* d, size_t n, uint32_t c) { return Crc32cHardware(d, n, c); },
           true}};
}

class Crc32cPathTest : public ::testing::TestWithParam<CrcPath> {
 protected:
  void SetUp() override {
    if (GetParam().needs_hardware && !Crc32cHardwareAvailable()) {
      GTEST_SKIP() << "no SSE4.2 CRC-32C instruction on this machine";
    }
  }
  uint32_t Crc(const std::string& s, uint32_t crc = 0) const {
    return GetParam().crc(s.data(), s.size(), crc);
  }
};

// Known answers: RFC 3720 (iSCSI) appendix B.4 and the usual "check" value of CRC-32C.
TEST_P(Crc32cPathTest, KnownAnswers) {
  struct Case {
    std::string input;
    uint32_t expected;
  };
  const std::vector<Case> cases = {
      {"", 0x00000000u},
      {"a", 0xC1D04330u},
      {"123456789", 0xE3069283u},
      {std::string(32, '\0'), 0x8A9136AAu},
      {std::string(32, '\xFF'), 0x62A8AB43u},
  };
  for (const Case& c : cases) {
    EXPECT_EQ(Crc(c.input), c.expected) << "input of " << c.input.size() << " bytes";
  }
  std::string ascending(32, '\0');
  for (int i = 0; i < 32; ++i) ascending[i] = static_cast<char>(i);
  EXPECT_EQ(Crc(ascending), 0x46DD794Eu);
}

TEST_P(Crc32cPathTest, EmptyInputLeavesTheCrcUnchanged) {
  EXPECT_EQ(GetParam().crc(nullptr, 0, 0), 0u);
  EXPECT_EQ(GetParam().crc(nullptr, 0, 0xE3069283u), 0xE3069283u);
}

TEST_P(Crc32cPathTest, ChunkedEqualsOneShot) {
  std::mt19937_64 rng(7);
  std::string data(1000, '\0');
  for (char& c : data) c = static_cast<char>(rng());
  const uint32_t one_shot = Crc(data);
  for (size_t chunk : {1u, 3u, 7u, 8u, 9u, 64u, 999u}) {
    uint32_t crc = 0;
    for (size_t at = 0; at < data.size(); at += chunk) crc = Crc(data.substr(at, chunk), crc);
    EXPECT_EQ(crc, one_shot) << "chunk " << chunk;
  }
  EXPECT_EQ(Crc("56789", Crc("1234")), 0xE3069283u);
}

INSTANTIATE_TEST_SUITE_P(AllPaths, Crc32cPathTest, ::testing::ValuesIn(Paths()),
                         [](const ::testing::TestParamInfo<CrcPath>& param) {
                           return param.param.name;
                         });

TEST(Crc32cTest, HardwareEqualsSoftwareOnRandomUnalignedBuffers) {
  if (!Crc32cHardwareAvailable()) GTEST_SKIP() << "no SSE4.2 CRC-32C instruction";
  std::mt19937_64 rng(42);
  std::vector<unsigned char> buffer(300 + 16);
  for (unsigned char& b : buffer) b = static_cast<unsigned char>(rng());
  for (size_t length = 0; length <= 300; ++length) {
    for (size_t offset = 0; offset < 16 && offset + length <= buffer.size(); ++offset) {
      const unsigned char* p = buffer.data() + offset;
      const auto seed = static_cast<uint32_t>(rng());
      ASSERT_EQ(Crc32cHardware(p, length), Crc32cSoftware(p, length))
          << "length " << length << " offset " << offset;
      ASSERT_EQ(Crc32cHardware(p, length, seed), Crc32cSoftware(p, length, seed))
          << "length " << length << " offset " << offset << " seed " << seed;
    }
  }
}

TEST(Crc32cTest, HardwareDetectionAgreesWithTheCompileTarget) {
  // A build for SSE4.2 (e.g. -march=native here) only runs on CPUs that have it, so run-time
  // detection must find it; without x86-64 there is no hardware path at all.
#if defined(__x86_64__) && defined(__SSE4_2__)
  EXPECT_TRUE(Crc32cHardwareAvailable());
#elif !defined(__x86_64__)
  EXPECT_FALSE(Crc32cHardwareAvailable());
#else
  GTEST_SKIP() << "built without SSE4.2; availability depends on the CPU";
#endif
}

}  // namespace
}  // namespace ranker
