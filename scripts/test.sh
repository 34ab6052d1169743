#!/usr/bin/env bash
# The test command: installs dependencies (if missing), checks the C++ formatting (clang-format,
# .clang-format), builds, and runs the whole suite; then
#   0. builds the project with clang and -Wthread-safety -Werror (every ABSL_GUARDED_BY checked),
#   1. builds it again with AddressSanitizer + UndefinedBehaviorSanitizer and runs it again,
#   2. builds the tests labelled tsan with ThreadSanitizer and runs them three times,
#   3. builds the libFuzzer targets with clang and runs each for RANKER_FUZZ_SECONDS (60).
# RANKER_SANITIZERS=0 skips 1 and 2; RANKER_FUZZ_SECONDS=0 skips 3 (each takes minutes).
# README.md tells people to run this; .ci/run runs exactly this.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
scripts/check-format.sh
scripts/build.sh
(cd "${BUILD_DIR:-build}" && ctest --output-on-failure -j "$(nproc)" --timeout 600)

echo "== clang build with thread-safety analysis (-Wthread-safety -Werror)"
CXX=clang++-14 BUILD_DIR=build-clang scripts/build.sh -DCMAKE_BUILD_TYPE=Debug \
  -DCMAKE_CXX_FLAGS="-Wthread-safety -Wthread-safety-beta" \
  -DRANKER_BUILD_TESTS=OFF -DRANKER_BUILD_BENCHMARKS=OFF

if [ "${RANKER_SANITIZERS:-1}" = 1 ]; then
  echo "== the same suite under AddressSanitizer + UndefinedBehaviorSanitizer"
  BUILD_DIR=build-asan scripts/build.sh -DCMAKE_BUILD_TYPE=Debug \
    -DCMAKE_CXX_FLAGS="-fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined" \
    -DRANKER_BUILD_BENCHMARKS=OFF -DRANKER_WERROR=OFF
  # The resident-set test measures memory, which the sanitizer's shadow memory distorts; the
  # container test builds its images from the sources, not from this build (it ran above).
  (cd build-asan && ASAN_OPTIONS=detect_leaks=1:halt_on_error=1 \
     UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
     ctest --output-on-failure -j "$(nproc)" --timeout 900 -E 'ReloadMemoryTest|container_stack_test')

  # ThreadSanitizer runs the tests labelled tsan (tests/CMakeLists.txt): in-process concurrency
  # of callers, reloads, the reaper, metrics, the Rank worker pool and the pooled messages.
  # Debian's gRPC, Abseil and RocksDB are not instrumented, so neither the server binary nor
  # tests that publish in-process run under TSan: their reports are about those libraries'
  # internals. tests/sanitizers/tsan.supp lists the suppressions and why.
  echo "== tests labelled tsan under ThreadSanitizer"
  cmake -S . -B build-tsan -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    -DCMAKE_CXX_FLAGS="-fsanitize=thread -fno-omit-frame-pointer" \
    -DRANKER_BUILD_BENCHMARKS=OFF -DRANKER_WERROR=OFF >/dev/null
  cmake --build build-tsan -j "$(nproc)" --target tsan_tests ranker-store
  (cd build-tsan && TSAN_OPTIONS="halt_on_error=1 second_deadlock_stack=1 suppressions=$PWD/../tests/sanitizers/tsan.supp" \
     ctest --output-on-failure --timeout 600 --repeat until-fail:3 -L tsan)
fi

if [ "${RANKER_FUZZ_SECONDS:-60}" != 0 ]; then
  echo "== fuzzing, ${RANKER_FUZZ_SECONDS:-60} s per target"
  scripts/fuzz.sh "${RANKER_FUZZ_SECONDS:-60}"
fi
