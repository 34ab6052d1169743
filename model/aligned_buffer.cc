#include "model/aligned_buffer.h"

#include "absl/strings/str_cat.h"

namespace ranker {

absl::StatusOr<AlignedBuffer> AlignedBuffer::Allocate(size_t size) {
  if (size > (size_t{1} << 46)) {
    return absl::ResourceExhaustedError(absl::StrCat("refusing to allocate ", size, " bytes"));
  }
  const size_t rounded = (size + kAlignment - 1) / kAlignment * kAlignment;
  void* p = std::aligned_alloc(kAlignment, rounded == 0 ? kAlignment : rounded);
  if (p == nullptr) {
    return absl::ResourceExhaustedError(absl::StrCat("out of memory allocating ", size, " bytes"));
  }
  AlignedBuffer buffer;
  buffer.data_.reset(static_cast<uint8_t*>(p));
  buffer.size_ = size;
  return buffer;
}

}  // namespace ranker
