// Counts every heap allocation of the benchmark binary (it interposes the C allocator, which
// operator new, aligned buffers and Eigen all use), so benchmarks can report allocations per
// call of the code they time.
#ifndef RANKER_BENCHMARKS_ALLOCATION_COUNTER_H_
#define RANKER_BENCHMARKS_ALLOCATION_COUNTER_H_

#include <cstdint>

namespace ranker {

// Allocations (malloc, calloc, realloc, memalign, aligned_alloc, posix_memalign, valloc,
// pvalloc) since the process started.
uint64_t AllocationCount();

}  // namespace ranker

#endif  // RANKER_BENCHMARKS_ALLOCATION_COUNTER_H_
