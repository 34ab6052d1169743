#!/usr/bin/env bash
# The test command: installs dependencies (if missing), builds, and runs the whole suite; then
# builds it again with AddressSanitizer + UndefinedBehaviorSanitizer and runs it once more
# (set RANKER_SANITIZERS=0 to skip that second pass, about 6 minutes on 2 cores).
# README.md tells people to run this; .ci/run runs exactly this.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
scripts/build.sh
(cd "${BUILD_DIR:-build}" && ctest --output-on-failure -j "$(nproc)" --timeout 600)

if [ "${RANKER_SANITIZERS:-1}" = 1 ]; then
  echo "== the same suite under AddressSanitizer + UndefinedBehaviorSanitizer"
  BUILD_DIR=build-asan scripts/build.sh -DCMAKE_BUILD_TYPE=Debug \
    -DCMAKE_CXX_FLAGS="-fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined" \
    -DRANKER_BUILD_BENCHMARKS=OFF -DRANKER_WERROR=OFF
  # The resident-set test measures memory, which the sanitizer's shadow memory distorts.
  (cd build-asan && ASAN_OPTIONS=detect_leaks=1:halt_on_error=1 \
     UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
     ctest --output-on-failure -j "$(nproc)" --timeout 900 -E 'ReloadMemoryTest')
fi
