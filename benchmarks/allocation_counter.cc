// Interposes the C allocator: operator new, std::aligned_alloc (AlignedVector) and Eigen's
// aligned buffers all end in these, so every heap allocation of the process is counted. The
// allocations themselves are glibc's own (__libc_*).
#include "benchmarks/allocation_counter.h"

#include <atomic>
#include <cerrno>
#include <cstddef>

extern "C" {
void* __libc_valloc(size_t size);
void* __libc_pvalloc(size_t size);
void* __libc_malloc(size_t size);
void* __libc_calloc(size_t count, size_t size);
void* __libc_realloc(void* p, size_t size);
void* __libc_memalign(size_t alignment, size_t size);
void __libc_free(void* p);
}

namespace {
std::atomic<uint64_t> g_allocations{0};
inline void Count() { g_allocations.fetch_add(1, std::memory_order_relaxed); }
}  // namespace

extern "C" {
void* malloc(size_t size) {
  Count();
  return __libc_malloc(size);
}
void* calloc(size_t count, size_t size) {
  Count();
  return __libc_calloc(count, size);
}
void* realloc(void* p, size_t size) {
  Count();
  return __libc_realloc(p, size);
}
void* memalign(size_t alignment, size_t size) {
  Count();
  return __libc_memalign(alignment, size);
}
void* aligned_alloc(size_t alignment, size_t size) {
  Count();
  return __libc_memalign(alignment, size);
}
int posix_memalign(void** out, size_t alignment, size_t size) {
  Count();
  void* p = __libc_memalign(alignment, size);
  if (p == nullptr) return ENOMEM;
  *out = p;
  return 0;
}
void* valloc(size_t size) {
  Count();
  return __libc_valloc(size);
}
void* pvalloc(size_t size) {
  Count();
  return __libc_pvalloc(size);
}
void free(void* p) { __libc_free(p); }
}

namespace ranker {

uint64_t AllocationCount() { return g_allocations.load(std::memory_order_relaxed); }

}  // namespace ranker
