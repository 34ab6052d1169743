// Counts every heap allocation of the benchmark binary (it replaces the global operator new),
// so benchmarks can report allocations per call of the code they time.
#ifndef RANKER_BENCHMARKS_ALLOCATION_COUNTER_H_
#define RANKER_BENCHMARKS_ALLOCATION_COUNTER_H_

#include <cstdint>

namespace ranker {

// Allocations through operator new since the process started.
uint64_t AllocationCount();

}  // namespace ranker

#endif  // RANKER_BENCHMARKS_ALLOCATION_COUNTER_H_
