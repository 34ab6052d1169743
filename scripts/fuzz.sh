#!/usr/bin/env bash
# Builds the libFuzzer targets with clang (AddressSanitizer + UndefinedBehaviorSanitizer) and
# runs each for a bounded time from the committed seed corpus. Fails on any crash, leak,
# sanitizer report, timeout or out-of-memory. Called by scripts/test.sh (hence CI).
# Usage: scripts/fuzz.sh [SECONDS_PER_TARGET]   (default 60; FUZZ_TARGETS="a b" to choose)
set -euo pipefail
cd "$(dirname "$0")/.."
SECONDS_PER_TARGET=${1:-60}
TARGETS=${FUZZ_TARGETS:-"manifest_fuzzer snapshot_fuzzer rank_request_fuzzer npy_fuzzer event_decoder_fuzzer"}
BUILD=${FUZZ_BUILD_DIR:-build-fuzz}

cmake -S . -B "$BUILD" -DCMAKE_C_COMPILER=clang-14 -DCMAKE_CXX_COMPILER=clang++-14 \
  -DCMAKE_BUILD_TYPE=RelWithDebInfo -DRANKER_FUZZ=ON -DRANKER_BUILD_TESTS=OFF \
  -DRANKER_BUILD_BENCHMARKS=OFF -DRANKER_WERROR=OFF \
  -DCMAKE_CXX_FLAGS="-fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer" >/dev/null
# shellcheck disable=SC2086
cmake --build "$BUILD" -j "$(nproc)" --target $TARGETS make_fuzz_seeds

summary=()
for target in $TARGETS; do
  work="$BUILD/corpus/$target"   # new inputs go here; the committed seeds stay untouched
  mkdir -p "$work"
  echo "== $target: ${SECONDS_PER_TARGET}s"
  log="$BUILD/$target.log"
  if ! ASAN_OPTIONS=detect_leaks=1:halt_on_error=1 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
      "$BUILD/fuzz/$target" -max_total_time="$SECONDS_PER_TARGET" -timeout=10 -rss_limit_mb=2048 \
      -print_final_stats=1 -artifact_prefix="$BUILD/$target-" "$work" "fuzz/corpus/$target" \
      >"$log" 2>&1; then
    tail -60 "$log"
    echo "fuzz: $target FAILED (log $log; reproducer under $BUILD/$target-*)" >&2
    exit 1
  fi
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
  rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log")
  cov=$(grep -o 'cov: [0-9]*' "$log" | tail -1)
  summary+=("$target: $execs executions ($rate/s), $cov, no findings")
done
echo "== fuzz summary"
printf '  %s\n' "${summary[@]}"
