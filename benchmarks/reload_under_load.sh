#!/usr/bin/env bash
# Measures what a hot reload costs while the server is under load: reload time, latency per
# second (p50/p99) across the reloads, and peak resident memory vs steady state.
# Usage: benchmarks/reload_under_load.sh [--users N] [--items N] [--kind full] [--reloads 3]
#        [--policy availability_preserving|resource_preserving] [--concurrency 4]
# Defaults give a ~100 MB snapshot (full fp32 tables, 750k users + 30k items, d=32).
set -euo pipefail
cd "$(dirname "$0")/.."
USERS=750000 ITEMS=30000 KIND=full RELOADS=3 POLICY=availability_preserving CONCURRENCY=4
while [ $# -gt 0 ]; do
  case "$1" in
    --users) USERS=$2; shift 2 ;; --items) ITEMS=$2; shift 2 ;; --kind) KIND=$2; shift 2 ;;
    --reloads) RELOADS=$2; shift 2 ;; --policy) POLICY=$2; shift 2 ;;
    --concurrency) CONCURRENCY=$2; shift 2 ;;
    *) echo "unknown flag $1" >&2; exit 2 ;;
  esac
done
BIN=${BUILD_DIR:-build}
WORK=$(mktemp -d /tmp/reload-bench-XXXXXX)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$WORK"' EXIT
STORE=$WORK/store
demo() { "$BIN/model_store/ranker-store" demo --store "$STORE" --users "$USERS" --items "$ITEMS" \
  --d 32 --kind "$KIND" --ratio 16 --hidden 64,32 --seed "$1" | sed 's/^/  publisher: /'; }
demo 1
"$BIN/server/ranker-server" --store "$STORE" --listen 127.0.0.1:0 --admin_listen= \
  --metrics_listen=127.0.0.1:0 --poll_interval=500ms --reload_policy "$POLICY" \
  >"$WORK/server.out" 2>"$WORK/server.err" &
SERVER=$!
until grep -q "^listening on" "$WORK/server.out"; do sleep 0.1; done
PORT=$(sed -n 's/^listening on 127.0.0.1:\([0-9]*\)/\1/p' "$WORK/server.out")
MPORT=$(sed -n 's/^metrics listening on port \([0-9]*\)/\1/p' "$WORK/server.out")
# RSS sampler: every 20 ms.
( while kill -0 $SERVER 2>/dev/null; do
    echo "$(date +%s.%N) $(awk '/VmRSS/ {print $2}' /proc/$SERVER/status 2>/dev/null)"; sleep 0.02
  done ) >"$WORK/rss.txt" &
DURATION=$((8 + RELOADS * 8))
"$BIN/client/ranker-client" bench --target 127.0.0.1:$PORT --concurrency "$CONCURRENCY" \
  --duration ${DURATION}s --warmup 1s --candidates_per_request 100 2>"$WORK/bench.err" >"$WORK/bench.out" &
BENCH=$!
sleep 5
STEADY_RSS=$(awk '/VmRSS/ {print $2}' /proc/$SERVER/status)
for i in $(seq 2 $((RELOADS + 1))); do
  demo "$i"
  sleep 7
done
wait $BENCH || true
echo "== load (per second; reloads happen after publishes) =="
cat "$WORK/bench.err"
cat "$WORK/bench.out"
echo "== reloads =="
grep -E "loaded and serving|rejected" "$WORK/server.err" | sed 's/^/  /'
PEAK_RSS=$(awk '{ if ($2 > m) m = $2 } END { print m }' "$WORK/rss.txt")
echo "== memory =="
echo "  steady RSS (one model loaded, under load): $((STEADY_RSS / 1024)) MiB"
echo "  peak RSS during the run:                   $((PEAK_RSS / 1024)) MiB"
curl -s 127.0.0.1:$MPORT/metrics | grep -E "^ranker_model_(memory|uncompressed)_bytes|^ranker_model_reload_duration_seconds_(sum|count)" | sed 's/^/  /'
kill $SERVER
