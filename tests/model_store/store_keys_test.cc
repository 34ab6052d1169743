#include "model_store/store_keys.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <limits>
#include <string>
#include <vector>

namespace ranker::store_keys {
namespace {

constexpr uint64_t kMax = std::numeric_limits<uint64_t>::max();

TEST(StoreKeysTest, VersionRoundTrips) {
  for (uint64_t v :
       {uint64_t{0}, uint64_t{1}, uint64_t{255}, uint64_t{256}, uint64_t{1} << 32, kMax}) {
    const std::string bytes = EncodeVersion(v);
    EXPECT_EQ(bytes.size(), 8u) << v;
    EXPECT_EQ(DecodeVersion(bytes), v) << v;
  }
}

TEST(StoreKeysTest, VersionIsBigEndian) {
  EXPECT_EQ(EncodeVersion(0x0102030405060708u), std::string("\x01\x02\x03\x04\x05\x06\x07\x08"));
  EXPECT_EQ(EncodeVersion(256), std::string("\0\0\0\0\0\0\x01\x00", 8));
  EXPECT_EQ(EncodeVersion(kMax), std::string(8, '\xFF'));
}

TEST(StoreKeysTest, DecodeVersionRejectsWrongLengths) {
  for (size_t length : {0u, 1u, 7u, 9u, 16u}) {
    EXPECT_EQ(DecodeVersion(std::string(length, '\x01')), std::nullopt) << length;
  }
}

TEST(StoreKeysTest, ManifestKeyRoundTrips) {
  for (uint64_t v : {uint64_t{0}, uint64_t{1}, uint64_t{256}, uint64_t{1} << 32, kMax}) {
    const std::string key = ManifestKey(v);
    EXPECT_EQ(key.rfind(kManifestPrefix, 0), 0u) << v;
    EXPECT_EQ(ParseManifestKey(key), v) << v;
  }
}

TEST(StoreKeysTest, ParseManifestKeyRejectsOtherKeys) {
  const std::vector<std::string> keys = {
      "",
      kFormatKey,
      kLatestKey,
      kManifestPrefix,                                // no version
      std::string(kManifestPrefix) + "1234567",       // 7 bytes
      ManifestKey(5) + "x",                           // 9 bytes
      "Manifest/" + EncodeVersion(5),                 // wrong case
      "manifest" + EncodeVersion(5),                  // no slash
      EncodeVersion(5),                               // bare version
      TensorChunkKey(5, "user/shared", 0),            // a tensor key
      std::string(kTensorPrefix) + EncodeVersion(5),  // a tensor range bound
  };
  for (const std::string& key : keys) {
    EXPECT_EQ(ParseManifestKey(key), std::nullopt) << "key '" << key << "'";
  }
}

// Pairs (a, b) with a < b numerically; every key built from them must sort the same way.
const std::vector<std::pair<uint64_t, uint64_t>>& OrderedPairs() {
  static const auto* pairs = new std::vector<std::pair<uint64_t, uint64_t>>{
      {0, 1},
      {1, 2},
      {9, 10},
      {255, 256},
      {256, 257},
      {65535, 65536},
      {(uint64_t{1} << 32) - 1, uint64_t{1} << 32},
      {1, kMax - 1},
      {kMax - 1, kMax},
  };
  return *pairs;
}

TEST(StoreKeysTest, ManifestKeysSortNumerically) {
  for (const auto& [a, b] : OrderedPairs()) {
    EXPECT_LT(ManifestKey(a), ManifestKey(b)) << a << " vs " << b;
  }
}

TEST(StoreKeysTest, TensorChunkKeysSortByVersionThenChunk) {
  for (const auto& [a, b] : OrderedPairs()) {
    EXPECT_LT(TensorChunkKey(a, "item/shared", 0), TensorChunkKey(b, "item/shared", 0))
        << a << " vs " << b;
    // Version orders before name and chunk.
    EXPECT_LT(TensorChunkKey(a, "zzz", 7), TensorChunkKey(b, "a", 0)) << a << " vs " << b;
    if (b <= std::numeric_limits<uint32_t>::max()) {
      const auto ca = static_cast<uint32_t>(a), cb = static_cast<uint32_t>(b);
      EXPECT_LT(TensorChunkKey(3, "item/shared", ca), TensorChunkKey(3, "item/shared", cb))
          << "chunk " << a << " vs " << b;
    }
  }
  EXPECT_LT(TensorChunkKey(3, "t", 9), TensorChunkKey(3, "t", 10));
  EXPECT_EQ(TensorChunkKey(1, "t", 0x01020304u),
            std::string(kTensorPrefix) + EncodeVersion(1) + "/t/\x01\x02\x03\x04");
}

TEST(StoreKeysTest, TensorRangeHoldsExactlyItsVersionsChunks) {
  const std::vector<std::string> names = {"a", "user/shared", "mlp/0/weight", "\xFF\xFF", ""};
  for (uint64_t v : {uint64_t{1}, uint64_t{2}, uint64_t{255}, uint64_t{256}, uint64_t{65535},
                     (uint64_t{1} << 32) - 1, uint64_t{1} << 32, kMax - 2, kMax - 1}) {
    const std::string begin = TensorRangeBegin(v), end = TensorRangeEnd(v);
    ASSERT_LT(begin, end) << v;
    for (const std::string& name : names) {
      for (uint32_t chunk : {0u, 1u, 9u, 10u, 255u, 256u, std::numeric_limits<uint32_t>::max()}) {
        const std::string key = TensorChunkKey(v, name, chunk);
        EXPECT_LE(begin, key) << v << " " << name << " " << chunk;
        EXPECT_LT(key, end) << v << " " << name << " " << chunk;
        for (uint64_t other : {v - 1, v + 1}) {
          const std::string outside = TensorChunkKey(other, name, chunk);
          EXPECT_TRUE(outside < begin || outside >= end)
              << "version " << other << " chunk key falls in the range of " << v;
        }
      }
    }
  }
}

}  // namespace
}  // namespace ranker::store_keys
