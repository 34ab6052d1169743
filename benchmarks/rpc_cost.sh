#!/usr/bin/env bash
# What one RPC costs the server and the client: for each load, runs `ranker-client bench` against
# one ranker-server and prints calls/s, p50, server and client CPU per call (from /proc and
# getrusage), and how many distinct thread ids the server showed against how many were alive at
# once (thread churn). Client and server share this machine's cores: compare rows of one run.
#
# Usage: benchmarks/rpc_cost.sh [--duration 8s] [--concurrency 8] [-- extra ranker-server flags]
#   RPC_COST_LOADS="empty rank empty@2 empty-sync rank-sync" (default) picks the loads (-sync: bench
#   with --client_api sync, a blocking thread per call; @N: concurrency N instead, e.g. empty@2
#   to compare calls at equal rates); BENCH_FLAGS adds bench flags to all.
# Then the floor: benchmarks/echo_floor.cc's minimal server and client, paired with the real
# ones, health checks at the same concurrency (RPC_COST_FLOOR=0 skips it).
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${BUILD_DIR:-build}
DURATION=8s
CONCURRENCY=8
while [ $# -gt 0 ]; do
  case $1 in
    --duration) DURATION=$2; shift 2 ;;
    --concurrency) CONCURRENCY=$2; shift 2 ;;
    --) shift; break ;;
    *) echo "usage: $0 [--duration 8s] [--concurrency 8] [-- server flags]" >&2; exit 2 ;;
  esac
done
LOADS=${RPC_COST_LOADS:-empty rank empty@2 empty-sync rank-sync}
WORK=$(mktemp -d /tmp/ranker-rpc-cost-XXXXXX)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$WORK"' EXIT

"$BIN/model_store/ranker-store" demo --store "$WORK/store" --users 100000 --items 10000 --d 32 \
  --kind memcom --ratio 16 --hidden 64,32 >/dev/null
"$BIN/server/ranker-server" --store "$WORK/store" --listen 127.0.0.1:0 --admin_listen= \
  --metrics_listen= "$@" >"$WORK/server.out" 2>"$WORK/server.err" &
SERVER=$!
until grep -q "^listening on" "$WORK/server.out"; do sleep 0.1; done
PORT=$(sed -n 's/^listening on 127.0.0.1:\([0-9]*\)/\1/p' "$WORK/server.out")
TICKS=$(getconf CLK_TCK)

cpu_ticks() { awk '{print $14 + $15}' "/proc/$SERVER/stat"; }
# Context switches of all the server's threads (voluntary + involuntary).
switches() { cat /proc/$SERVER/task/*/status 2>/dev/null | awk '/ctxt_switches/ {s += $2} END {print s}'; }
# Samples the server's thread ids every 20 ms until $WORK/stop exists; prints "distinct max_live".
sample_threads() {
  local max_live=0 live
  while [ ! -e "$WORK/stop" ]; do
    live=$(ls "/proc/$SERVER/task" | tee -a "$WORK/tids" | wc -l)
    [ "$live" -gt "$max_live" ] && max_live=$live
    sleep 0.02
  done
  echo "$(sort -u "$WORK/tids" | wc -l) $max_live"
}

printf "%-12s %10s %9s %16s %16s %14s %18s\n" load calls/s "p50 us" "server us/call" "client us/call" "server tids" "server switches/call"
for load in $LOADS; do
  concurrency=$CONCURRENCY
  case $load in *@*) concurrency=${load#*@} ;; esac
  case ${load%%[-@]*} in
    empty) flags=(--rpc empty) ;;
    rank) flags=(--rpc rank --candidates_per_request 100 --k 10) ;;
    *) echo "unknown load $load" >&2; exit 2 ;;
  esac
  case $load in *-sync*) flags+=(--client_api sync) ;; esac
  # One unmeasured second first, so thread pools and caches are warm.
  "$BIN/client/ranker-client" bench --target "127.0.0.1:$PORT" "${flags[@]}" \
    --concurrency "$concurrency" --duration 1s --warmup 0s --progress=false ${BENCH_FLAGS:-} >/dev/null
  rm -f "$WORK/stop" "$WORK/tids"
  sample_threads >"$WORK/threads" &
  SAMPLER=$!
  before=$(cpu_ticks); switches_before=$(switches)
  /usr/bin/time -f "%U %S" -o "$WORK/client.time" "$BIN/client/ranker-client" bench \
    --target "127.0.0.1:$PORT" "${flags[@]}" --concurrency "$concurrency" --duration "$DURATION" \
    --warmup 0s --progress=false --json ${BENCH_FLAGS:-} >"$WORK/report.json"
  after=$(cpu_ticks); switches_after=$(switches)
  touch "$WORK/stop"; wait "$SAMPLER"
  python3 - "$WORK/report.json" "$WORK/client.time" "$before" "$after" "$TICKS" "$load" \
    "$(cat "$WORK/threads")" "$((switches_after - switches_before))" <<'EOF'
import json, sys
report = json.load(open(sys.argv[1]))
user, system = map(float, open(sys.argv[2]).read().split()[-2:])
before, after, ticks = int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5])
calls = report["calls"]
distinct, live = sys.argv[7].split()
server_us = (after - before) / ticks / calls * 1e6
client_us = (user + system) / calls * 1e6
print(f"{sys.argv[6]:<12} {report['qps']:10.0f} {report.get('latencyUs', report.get('latency_us', {})).get('p50', 0):9.1f} "
      f"{server_us:16.1f} {client_us:16.1f} {distinct + ' of ' + live + ' live':>14} "
      f"{int(sys.argv[8]) / calls:18.2f}")
EOF
done

if [ "${RPC_COST_FLOOR:-1}" = 1 ]; then
  "$BIN/benchmarks/ranker_echo_floor" serve >"$WORK/floor.out" &
  FLOOR=$!
  until grep -q "^listening on" "$WORK/floor.out"; do sleep 0.1; done
  FLOOR_PORT=$(sed -n 's/^listening on 127.0.0.1:\([0-9]*\)/\1/p' "$WORK/floor.out")
  echo "floor: health checks, concurrency $CONCURRENCY, $DURATION each (calls/s)"
  floor_load() { "$BIN/benchmarks/ranker_echo_floor" load --target "127.0.0.1:$1" \
    --concurrency "$CONCURRENCY" --duration "$DURATION" | awk '{print $1}'; }
  bench_empty() { "$BIN/client/ranker-client" bench --target "127.0.0.1:$1" --rpc empty \
    --concurrency "$CONCURRENCY" --duration "$DURATION" --warmup 0s --progress=false --json \
    2>/dev/null | python3 -c 'import json, sys; print(round(json.load(sys.stdin)["qps"]))'; }
  printf "  %-36s %8s\n" "echo_floor load -> echo_floor serve" "$(floor_load "$FLOOR_PORT")"
  printf "  %-36s %8s\n" "bench --rpc empty -> echo_floor serve" "$(bench_empty "$FLOOR_PORT")"
  printf "  %-36s %8s\n" "echo_floor load -> ranker-server" "$(floor_load "$PORT")"
  printf "  %-36s %8s\n" "bench --rpc empty -> ranker-server" "$(bench_empty "$PORT")"
  kill "$FLOOR"; wait "$FLOOR" 2>/dev/null || true
  "$BIN/benchmarks/ranker_echo_floor" serve --api async >"$WORK/floor-async.out" &
  FLOOR=$!
  until grep -q "^listening on" "$WORK/floor-async.out"; do sleep 0.1; done
  FLOOR_PORT=$(sed -n 's/^listening on 127.0.0.1:\([0-9]*\)/\1/p' "$WORK/floor-async.out")
  printf "  %-36s %8s\n" "echo_floor load -> serve --api async" "$(floor_load "$FLOOR_PORT")"
  kill "$FLOOR"; wait "$FLOOR" 2>/dev/null || true
fi
kill "$SERVER"; wait "$SERVER" 2>/dev/null || true
