#!/usr/bin/env bash
# Produces every figure of docs/performance.md in one run (about 15 minutes, ~6 GB of disk for
# the scale models). Client and server share this machine's cores, so compare ratios.
# Usage: benchmarks/run_performance.sh [--skip-scale]
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${BUILD_DIR:-build}
SKIP_SCALE=0; [ "${1:-}" = "--skip-scale" ] && SKIP_SCALE=1
WORK=$(mktemp -d /tmp/ranker-perf-XXXXXX)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$WORK"' EXIT

start_server() {  # store, extra flags...; sets PORT, MPORT, SERVER
  local store=$1; shift
  "$BIN/server/ranker-server" --store "$store" --listen 127.0.0.1:0 --admin_listen= \
    --metrics_listen=127.0.0.1:0 --max_k 1000 --max_candidates 100000 "$@" \
    >"$WORK/server.out" 2>"$WORK/server.err" &
  SERVER=$!
  until grep -q "^listening on" "$WORK/server.out"; do sleep 0.2; done
  PORT=$(sed -n 's/^listening on 127.0.0.1:\([0-9]*\)/\1/p' "$WORK/server.out")
  MPORT=$(sed -n 's/^metrics listening on port \([0-9]*\)/\1/p' "$WORK/server.out")
}
stop_server() { kill "$SERVER"; wait "$SERVER" 2>/dev/null || true; }
rss_mib() { awk '/VmRSS/ {printf "%.1f", $2 / 1024}' /proc/$SERVER/status; }
model_bytes() { curl -s 127.0.0.1:$MPORT/metrics | awk '/^ranker_model_memory_bytes/ {s += $2} END {printf "%.0f", s}'; }

echo "== machine"; lscpu | grep -E "Model name|^CPU\(s\)|Flags" | sed 's/Flags:.*\(avx512f\).*/Flags: ... avx512f .../'
echo "== 1. micro-benchmarks"
"$BIN/benchmarks/ranker_benchmarks" --benchmark_min_time=0.3 2>/dev/null

echo "== 2. what one RPC costs: Rank(100 candidates, k=10, d=32) vs the empty RPC, concurrency 8"
benchmarks/rpc_cost.sh --duration 10s
echo "== 2b. allocations per call, client and server in one process over loopback gRPC"
"$BIN/benchmarks/ranker_rpc_benchmarks" --benchmark_min_time=1 2>/dev/null
if command -v heaptrack >/dev/null; then
  echo "== 2c. the server's allocation sites per Rank RPC (heaptrack)"
  benchmarks/rpc_allocations.sh rank 4
fi
if command -v perf >/dev/null && [ "$(id -u)" = 0 ]; then
  echo "== 2d. where the server's CPU goes under Rank(100) load (perf)"
  benchmarks/profile_server.sh rank
fi

echo "== 3. whole-catalogue Rank over 1,000,000 items (history model, memcom 16x, d=64, MLP 192-128-64-1)"
"$BIN/model_store/ranker-store" demo --store "$WORK/catalogue" --user_mode history --users 1000 \
  --items 1000000 --d 64 --kind memcom --ratio 16 --hidden 128,64 --history_users 1000 >/dev/null
# --max_retrieve_n 1000000 lets one request ask for one stage (N = the catalogue).
start_server "$WORK/catalogue" --max_retrieve_n 1000000
for n in 100 500 2000 1000000; do
  echo "  retrieve_n $n:"
  "$BIN/client/ranker-client" rank --target 127.0.0.1:$PORT --user 7 --k 10 --retrieve_n $n \
    --repeat $([ $n = 1000000 ] && echo 10 || echo 200) | grep -E "calls:|stage" | sed 's/^/    /'
done
echo "  server RSS $(rss_mib) MiB, model $(model_bytes) bytes"
echo "== 3b. bench against the 1,000,000-item model: whole catalogue (two stages, N = 500) vs 100 candidates"
for per_request in 0 100; do
  "$BIN/client/ranker-client" bench --target 127.0.0.1:$PORT --rpc rank --concurrency 2 \
    --duration 10s --candidates_per_request $per_request --users 1000 --k 10 --json --progress=false
done
stop_server

if [ "$SKIP_SCALE" = 0 ]; then
  echo "== 4/5. scale models: 10,000,000 users x 1,000,000 items, d=64"
  for kind in memcom full; do
    /usr/bin/time -f "  publish: %e s, peak %M KiB" "$BIN/model_store/ranker-store" demo \
      --store "$WORK/scale-$kind" --users 10000000 --items 1000000 --d 64 --kind $kind \
      --ratio 16 --hidden 128,64
    start_server "$WORK/scale-$kind"
    grep -o "loaded and serving ([0-9.]* s)" "$WORK/server.err" | sed 's/^/  /'
    "$BIN/client/ranker-client" rank --target 127.0.0.1:$PORT --user 7 --k 10 \
      --candidates "$(seq -s, 1 1000 | sed 's/,$//')" --repeat 200 | head -1
    echo "  $kind: model tensors $(model_bytes) bytes; server RSS $(rss_mib) MiB"
    stop_server
    rm -rf "$WORK/scale-$kind"
  done
fi
