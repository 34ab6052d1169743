#include "trainer/sweep.h"
absl::Status ranker::RunSweep(const SweepOptions&) { return absl::UnimplementedError("soon"); }
