#!/usr/bin/env bash
# Where a loaded ranker-server spends its CPU: starts it on the demo model of docs/performance.md,
# drives `ranker-client bench` at it, records the server alone with perf (Debian's linux-perf;
# run as root) and prints the shares by library and the top symbols, plus CPU per call.
# Usage: benchmarks/profile_server.sh [rank|empty] [extra bench flags...]
#   SERVER_BIN=path/to/ranker-server profiles another build with the same load.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${BUILD_DIR:-build}
SERVER_BIN=${SERVER_BIN:-$BIN/server/ranker-server}
RPC=${1:-rank}
shift || true
command -v perf >/dev/null || { echo "needs perf (apt install linux-perf)" >&2; exit 1; }
WORK=$(mktemp -d /tmp/ranker-profile-XXXXXX)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$WORK"' EXIT

"$BIN/model_store/ranker-store" demo --store "$WORK/store" --users 100000 --items 10000 --d 32 \
  --kind memcom --ratio 16 --hidden 64,32 >/dev/null
"$SERVER_BIN" --store "$WORK/store" --listen 127.0.0.1:0 --admin_listen= --metrics_listen= \
  >"$WORK/server.out" 2>"$WORK/server.err" &
SERVER=$!
until grep -q "^listening on" "$WORK/server.out"; do sleep 0.1; done
PORT=$(sed -n 's/^listening on 127.0.0.1:\([0-9]*\)/\1/p' "$WORK/server.out")
bench() {
  "$BIN/client/ranker-client" bench --target "127.0.0.1:$PORT" --rpc "$RPC" --concurrency 8 \
    --candidates_per_request 100 --k 10 --warmup 0s --progress=false "$@"
}
bench --duration 2s "$@" >/dev/null 2>&1  # warm
bench --duration 7s --json "$@" >"$WORK/report.json" 2>/dev/null &
LOAD=$!
sleep 1
perf record -F 2000 -g -p "$SERVER" -o "$WORK/perf.data" -- sleep 5 >/dev/null 2>&1
wait "$LOAD"
QPS=$(python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))["qps"])' "$WORK/report.json")
SAMPLES=$(perf report -i "$WORK/perf.data" --stdio -g none --sort dso 2>/dev/null |
  awk '/^# Samples:/ {print $3}')
echo "load: $RPC, bench $* at $(printf %.0f "$QPS") calls/s"
perf report -i "$WORK/perf.data" --no-children --sort dso -g none -F overhead,sample,dso \
  2>/dev/null | grep "%" | sort -k2 -rn | head -8 |
  awk -v qps="$QPS" '{printf "  %7s  %6.1f us/call  %s\n", $1, $2 / 2000 / 5 / qps * 1e6, $3}'
echo "  top symbols:"
perf report -i "$WORK/perf.data" --no-children --sort sym -g none 2>/dev/null | grep "%" |
  head -15 | cut -c1-150 | sed 's/^/  /'
