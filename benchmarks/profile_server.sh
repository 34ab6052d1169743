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
# System-wide, then the server's samples: `perf record -p` loses threads that start and exit
# while it records (the old synchronous server's workers).
perf record -F 2000 -g -a -o "$WORK/perf.data" -- sleep 5 >/dev/null 2>&1
wait "$LOAD"
QPS=$(python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))["qps"])' "$WORK/report.json")
echo "load: $RPC, bench $* at $(printf %.0f "$QPS") calls/s"
# Leaf frame of every sample of the server's threads, grouped by library and by symbol.
perf script -i "$WORK/perf.data" -F pid,ip,sym,dso -G 2>/dev/null |
  python3 -c '
import collections, re, sys
server, qps, seconds, hz = sys.argv[1], float(sys.argv[2]), 5.0, 2000.0
by_dso, by_sym, total = collections.Counter(), collections.Counter(), 0
for line in sys.stdin:
    match = re.match(r"\s*(\d+)\s+[0-9a-f]+\s+(.*?)\s+\((.*)\)\s*$", line)
    if not match or match.group(1) != server:
        continue
    total += 1
    by_dso[match.group(3).split("/")[-1]] += 1
    by_sym[match.group(2)[:110]] += 1
per_call = lambda n: n / hz / seconds / qps * 1e6
print(f"  server CPU: {per_call(total):.1f} us/call ({total} samples), by library:")
for dso, n in by_dso.most_common(8):
    print(f"  {100 * n / total:6.2f}%  {per_call(n):6.1f} us/call  {dso}")
print("  top symbols:")
for sym, n in by_sym.most_common(15):
    print(f"  {100 * n / total:6.2f}%  {sym}")
' "$SERVER" "$QPS"
