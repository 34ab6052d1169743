#include "model/aligned_buffer.h"

#include <sys/mman.h>

#include "absl/strings/str_cat.h"

namespace ranker {

void AlignedBuffer::Release::operator()(uint8_t* p) const {
  if (mapped_bytes != 0) {
    munmap(p, mapped_bytes);
  } else {
    std::free(p);
  }
}

absl::StatusOr<AlignedBuffer> AlignedBuffer::Allocate(size_t size) {
  if (size > (size_t{1} << 46)) {
    return absl::ResourceExhaustedError(absl::StrCat("refusing to allocate ", size, " bytes"));
  }
  AlignedBuffer buffer;
  buffer.size_ = size;
  if (size >= kOwnMappingBytes) {
    void* p = mmap(nullptr, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) {
      return absl::ResourceExhaustedError(absl::StrCat("out of memory mapping ", size, " bytes"));
    }
    // Advice only: where huge pages are off or unavailable the mapping works the same.
    madvise(p, size, MADV_HUGEPAGE);
    buffer.data_ = std::unique_ptr<uint8_t, Release>(static_cast<uint8_t*>(p), Release{size});
    return buffer;
  }
  const size_t rounded = (size + kAlignment - 1) / kAlignment * kAlignment;
  void* p = std::aligned_alloc(kAlignment, rounded == 0 ? kAlignment : rounded);
  if (p == nullptr) {
    return absl::ResourceExhaustedError(absl::StrCat("out of memory allocating ", size, " bytes"));
  }
  buffer.data_.reset(static_cast<uint8_t*>(p));
  return buffer;
}

}  // namespace ranker
