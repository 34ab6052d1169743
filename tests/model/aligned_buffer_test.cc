// AlignedBuffer (heap below 1 MiB, its own mapping from 1 MiB, returned to the system when
// freed) and AllFinite (the block-wise check every loaded tensor goes through), against the
// obvious scalar definitions.
#include "model/aligned_buffer.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cmath>
#include <cstdint>
#include <cstring>
#include <fstream>
#include <limits>
#include <vector>

#include "model/finite_check.h"

namespace ranker {
namespace {

TEST(AlignedBufferTest, SmallAndMappedBuffersAreAlignedWritableAndMovable) {
  for (size_t size : {size_t{0}, size_t{1}, size_t{4096}, AlignedBuffer::kOwnMappingBytes - 1,
                      AlignedBuffer::kOwnMappingBytes, size_t{5} << 20}) {
    absl::StatusOr<AlignedBuffer> buffer = AlignedBuffer::Allocate(size);
    ASSERT_TRUE(buffer.ok()) << size;
    EXPECT_EQ(buffer->size(), size);
    EXPECT_EQ(reinterpret_cast<uintptr_t>(buffer->data()) % AlignedBuffer::kAlignment, 0u);
    for (size_t i = 0; i < size; i += 4093) buffer->data()[i] = static_cast<uint8_t>(i);
    if (size > 0) buffer->data()[size - 1] = 7;
    AlignedBuffer moved = *std::move(buffer);
    ASSERT_EQ(moved.size(), size);
    for (size_t i = 0; i + 1 < size; i += 4093) {
      ASSERT_EQ(moved.data()[i], static_cast<uint8_t>(i)) << size;
    }
    if (size > 0) {
      EXPECT_EQ(moved.data()[size - 1], 7);
    }
    AlignedBuffer assigned;
    assigned = std::move(moved);  // the mapping is released once, by `assigned`
    EXPECT_EQ(assigned.size(), size);
  }
}

// Resident bytes of this process, from /proc/self/statm.
size_t ResidentBytes() {
  std::ifstream statm("/proc/self/statm");
  size_t pages = 0, resident = 0;
  statm >> pages >> resident;
  return resident * static_cast<size_t>(sysconf(_SC_PAGESIZE));
}

TEST(AlignedBufferTest, LargeBuffersAreTheirOwnMappingAndFreeingReturnsTheMemory) {
  constexpr size_t kSize = size_t{64} << 20;
  const size_t before = ResidentBytes();
  {
    absl::StatusOr<AlignedBuffer> buffer = AlignedBuffer::Allocate(kSize);
    ASSERT_TRUE(buffer.ok());
    EXPECT_EQ(reinterpret_cast<uintptr_t>(buffer->data()) % sysconf(_SC_PAGESIZE), 0u);
    std::memset(buffer->data(), 1, kSize);
    EXPECT_GE(ResidentBytes(), before + kSize * 9 / 10);
  }
  EXPECT_LT(ResidentBytes(), before + kSize / 10);
}

TEST(AlignedBufferTest, RefusesAbsurdSizes) {
  EXPECT_EQ(AlignedBuffer::Allocate(size_t{1} << 50).status().code(),
            absl::StatusCode::kResourceExhausted);
}

bool ScalarAllFinite(const std::vector<float>& values) {
  for (float v : values) {
    if (!std::isfinite(v)) return false;
  }
  return true;
}

TEST(AllFiniteTest, AgreesWithIsfiniteWhereverTheBadValueSits) {
  const float bad_values[] = {
      std::numeric_limits<float>::quiet_NaN(), -std::numeric_limits<float>::quiet_NaN(),
      std::numeric_limits<float>::infinity(), -std::numeric_limits<float>::infinity()};
  // Sizes around the 4096-value block, and positions in the first, a middle and the tail block.
  for (size_t n : {size_t{1}, size_t{4095}, size_t{4096}, size_t{4097}, size_t{3 * 4096 + 5}}) {
    std::vector<float> values(n);
    for (size_t i = 0; i < n; ++i) values[i] = (i % 2 ? -1.0f : 1.0f) * static_cast<float>(i);
    values[0] = std::numeric_limits<float>::max();
    values[n - 1] = -std::numeric_limits<float>::denorm_min();
    ASSERT_TRUE(AllFinite(values)) << n;
    for (size_t position : {size_t{0}, n / 2, n - 1}) {
      for (float bad : bad_values) {
        std::vector<float> poisoned = values;
        poisoned[position] = bad;
        ASSERT_EQ(AllFinite(poisoned), ScalarAllFinite(poisoned)) << n << " at " << position;
        ASSERT_FALSE(AllFinite(poisoned));
      }
    }
  }
  EXPECT_TRUE(AllFinite({}));
}

}  // namespace
}  // namespace ranker
