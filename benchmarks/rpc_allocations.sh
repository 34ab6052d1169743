#!/usr/bin/env bash
# Where the server's heap allocations per RPC come from: runs ranker-server under heaptrack
# (Debian's heaptrack), drives `ranker-client bench` at it, and prints the allocation sites by
# number of calls, each divided by the RPCs served. Start-up allocations (model load, RocksDB)
# land at sites of their own, well below one per RPC.
# Usage: benchmarks/rpc_allocations.sh [rank|empty] [seconds]
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${BUILD_DIR:-build}
RPC=${1:-rank}
SECONDS_OF_LOAD=${2:-4}
command -v heaptrack >/dev/null || { echo "needs heaptrack (apt install heaptrack)" >&2; exit 1; }
WORK=$(mktemp -d /tmp/ranker-allocs-XXXXXX)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$WORK"' EXIT

"$BIN/model_store/ranker-store" demo --store "$WORK/store" --users 100000 --items 10000 --d 32 \
  --kind memcom --ratio 16 --hidden 64,32 >/dev/null
heaptrack -o "$WORK/trace" "$BIN/server/ranker-server" --store "$WORK/store" \
  --listen 127.0.0.1:0 --admin_listen= --metrics_listen=127.0.0.1:0 >"$WORK/server.out" \
  2>"$WORK/server.err" &
until grep -q "^listening on" "$WORK/server.out"; do sleep 0.2; done
PORT=$(sed -n 's/^listening on 127.0.0.1:\([0-9]*\)/\1/p' "$WORK/server.out")
MPORT=$(sed -n 's/^metrics listening on port \([0-9]*\)/\1/p' "$WORK/server.out")
"$BIN/client/ranker-client" bench --target "127.0.0.1:$PORT" --rpc "$RPC" --concurrency 8 \
  --duration "${SECONDS_OF_LOAD}s" --warmup 0s --progress=false --candidates_per_request 100 \
  2>/dev/null | head -1
# The health check is not counted in ranker_requests_total; the bench's own count is used then
# (it misses only calls in flight at the end).
if [ "$RPC" = rank ]; then
  CALLS=$(curl -s "127.0.0.1:$MPORT/metrics" |
    awk '/^ranker_requests_total/ && /method="Rank"/ && /code="OK"/ {print $2}')
else
  CALLS=$(grep -o "^[0-9]* calls" "$WORK/server.out" || true)
fi
SERVER=$(pgrep -f "ranker-server --store $WORK/store" | head -1)
kill "$SERVER"
wait 2>/dev/null || true
TRACE=$(ls "$WORK"/trace*)
echo "RPCs served: ${CALLS:-unknown}"
heaptrack_print -f "$TRACE" -n 8 --print-peaks 0 --print-leaks 0 --print-temporary 0 \
    2>/dev/null | awk -v calls="${CALLS:-0}" '
  /calls to allocation functions/ { total += $1; next }
  /^[0-9]+ calls with/ {
    if (site != "" && keep) print line " " site
    n = $1; site = ""; depth = 0; keep = calls == 0 || n / calls >= 0.01
    line = calls > 0 ? sprintf("%8.2f per RPC %9d calls  ", n / calls, n) : sprintf("%9d calls  ", n)
    next
  }
  n != "" && /^    [^ ]/ && depth < 2 { sub(/^ +/, ""); site = site (depth ? " <- " : "") $0; depth++ }
  END {
    if (site != "" && keep) print line " " site
    if (calls > 0) printf "all sites: %d allocation calls, %.2f per RPC\n", total, total / calls
  }'
