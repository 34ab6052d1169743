// A byte buffer aligned to 64 bytes, for tensors that SIMD code reads. Buffers of
// kOwnMappingBytes or more are their own anonymous mapping (transparent huge pages asked for):
// freeing one returns its memory to the system at once, whatever the allocator's thresholds,
// and filling it takes one page fault per 2 MiB instead of per 4 KiB.
// Move-only; allocation failure is reported as RESOURCE_EXHAUSTED, never thrown.
#ifndef RANKER_MODEL_ALIGNED_BUFFER_H_
#define RANKER_MODEL_ALIGNED_BUFFER_H_

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/types/span.h"

namespace ranker {

class AlignedBuffer {
 public:
  static constexpr size_t kAlignment = 64;
  static constexpr size_t kOwnMappingBytes = size_t{1} << 20;

  AlignedBuffer() = default;
  // Allocates `size` bytes (contents undefined).
  static absl::StatusOr<AlignedBuffer> Allocate(size_t size);
  // Allocates and copies `values`.
  template <typename T>
  static absl::StatusOr<AlignedBuffer> FromSpan(absl::Span<const T> values);

  uint8_t* data() { return data_.get(); }
  const uint8_t* data() const { return data_.get(); }
  size_t size() const { return size_; }

  // REQUIRES: size() is a multiple of sizeof(T).
  template <typename T>
  absl::Span<T> as() {
    return absl::Span<T>(reinterpret_cast<T*>(data_.get()), size_ / sizeof(T));
  }
  template <typename T>
  absl::Span<const T> as() const {
    return absl::Span<const T>(reinterpret_cast<const T*>(data_.get()), size_ / sizeof(T));
  }

 private:
  struct Release {
    Release() noexcept : mapped_bytes(0) {}
    explicit Release(size_t bytes) noexcept : mapped_bytes(bytes) {}
    void operator()(uint8_t* p) const;
    size_t mapped_bytes;  // 0: from aligned_alloc
  };
  std::unique_ptr<uint8_t, Release> data_;
  size_t size_ = 0;
};

template <typename T>
absl::StatusOr<AlignedBuffer> AlignedBuffer::FromSpan(absl::Span<const T> values) {
  auto buffer = Allocate(values.size() * sizeof(T));
  if (!buffer.ok()) return buffer.status();
  if (!values.empty()) std::memcpy(buffer->data(), values.data(), values.size() * sizeof(T));
  return buffer;
}

// A std::vector whose storage is 64-byte aligned. Eigen picks its vectorised code path (and so
// the order of float additions) by the alignment of the data; buffers that feed Eigen use this
// so that the same inputs give bit-identical scores in every process and on every thread.
template <typename T>
struct AlignedAllocator {
  using value_type = T;
  AlignedAllocator() = default;
  template <typename U>
  AlignedAllocator(const AlignedAllocator<U>&) {}  // NOLINT: allocators convert implicitly
  T* allocate(size_t n) {
    const size_t bytes = (n * sizeof(T) + AlignedBuffer::kAlignment - 1) /
                         AlignedBuffer::kAlignment * AlignedBuffer::kAlignment;
    void* p = std::aligned_alloc(AlignedBuffer::kAlignment,
                                 bytes == 0 ? AlignedBuffer::kAlignment : bytes);
    if (p == nullptr) std::abort();  // as std::allocator would fail, without exceptions
    return static_cast<T*>(p);
  }
  void deallocate(T* p, size_t) { std::free(p); }
  template <typename U>
  bool operator==(const AlignedAllocator<U>&) const {
    return true;
  }
};

template <typename T>
using AlignedVector = std::vector<T, AlignedAllocator<T>>;

}  // namespace ranker

#endif  // RANKER_MODEL_ALIGNED_BUFFER_H_
