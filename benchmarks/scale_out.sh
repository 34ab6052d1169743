#!/usr/bin/env bash
# Figures for docs/scale-out.md, on this machine (client, nginx and servers share its cores):
#   1. the nginx hop: Rank(100) and the empty call to one replica, direct and through nginx
#      (deploy/nginx/nginx.conf), alternated in one run;
#   2. a replica's cold start for a ~1 GB snapshot: export, then pull (copy + CRC + ingest) into
#      a fresh store, then ranker-server until SERVING (load + verify), seconds and GB/s each.
# Usage: benchmarks/scale_out.sh [--skip-cold-start]   (BUILD_DIR=build by default)
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${BUILD_DIR:-build}
SECONDS_PER_RUN=${SECONDS_PER_RUN:-8}
WORK=$(mktemp -d /tmp/ranker-scale-out-bench.XXXXXX)
PIDS=()
cleanup() {
  for pid in "${PIDS[@]:-}"; do [ -n "$pid" ] && kill "$pid" 2>/dev/null || true; done
  [ -f "$WORK/nginx/nginx.pid" ] && kill "$(cat "$WORK/nginx/nginx.pid")" 2>/dev/null || true
  wait 2>/dev/null || true
  rm -rf "$WORK"
}
trap cleanup EXIT
free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}
wait_serving() {  # wait_serving TARGET: seconds until health answers SERVING
  local start=$(date +%s.%N)
  until "$BIN/client/ranker-client" health --target "$1" --timeout 1s >/dev/null 2>&1; do sleep 0.02; done
  python3 -c "print('%.2f' % ($(date +%s.%N) - $start))"
}
summary() {  # one line from a bench JSON report
  python3 -c 'import json,sys; r=json.load(sys.stdin); l=r["latency_us"]
print("%8.0f calls/s  p50 %6.0f us  p99 %6.0f us  errors %s" % (r["qps"], l["p50"], l["p99"], r.get("errors") or 0))'
}

echo "== 1. the nginx hop (one replica, concurrency 8, ${SECONDS_PER_RUN} s per run)"
"$BIN/model_store/ranker-store" demo --store "$WORK/store" --users 10000 --items 10000 >/dev/null
PORT=$(free_port)
"$BIN/server/ranker-server" --store "$WORK/store" --listen "127.0.0.1:$PORT" \
  --metrics_listen 127.0.0.1:0 --admin_listen 127.0.0.1:0 >/dev/null 2>"$WORK/server.err" &
PIDS+=($!)
wait_serving "127.0.0.1:$PORT" >/dev/null
mkdir -p "$WORK/nginx/temp"
NGINX_PORT=$(free_port)
deploy/nginx/render-config.sh "127.0.0.1:$NGINX_PORT" "127.0.0.1:$PORT" >"$WORK/nginx/nginx.conf"
"$(command -v nginx || echo /usr/sbin/nginx)" -p "$WORK/nginx" -c "$WORK/nginx/nginx.conf" \
  2>"$WORK/nginx/nginx.err"
wait_serving "127.0.0.1:$NGINX_PORT" >/dev/null
for rpc in ${RPCS:-rank empty}; do
  for round in 1 2; do
    for path in direct nginx; do
      target="127.0.0.1:$PORT"
      [ $path = nginx ] && target="127.0.0.1:$NGINX_PORT"
      printf '%-6s %-7s round %d: ' "$rpc" "$path" "$round"
      "$BIN/client/ranker-client" bench --target "$target" --rpc "$rpc" --concurrency 8 \
        --duration "${SECONDS_PER_RUN}s" --candidates_per_request 100 --json --progress=false |
        summary
    done
  done
done
kill "$(cat "$WORK/nginx/nginx.pid")"
rm -f "$WORK/nginx/nginx.pid"

[ "${1:-}" = "--skip-cold-start" ] && exit 0
echo "== 2. replica cold start, ~1 GB snapshot (3M users x d 64 full table + 1M items)"
/usr/bin/time -f "   publish: %e s" "$BIN/model_store/ranker-store" demo --store "$WORK/primary" \
  --users 3000000 --items 1000000 --d 64 --kind full --hidden 128,64 >/dev/null
/usr/bin/time -f "   export: %e s" "$BIN/model_store/ranker-store" export --store "$WORK/primary" \
  --to "$WORK/repo" | sed 's/^/   /'
bytes=$(du -sb "$WORK/repo" | cut -f1)
for run in 1 2 3 4; do
  rm -rf "$WORK/replica"
  # Runs 1 and 2 drop the page cache first where allowed (root), so the pull reads the
  # repository from disk; runs 3 and 4 find it in the page cache (a repository on a local disk
  # that was just written, or a second replica on the host).
  cache="warm"
  if [ $run -le 2 ]; then
    sync
    if echo 3 2>/dev/null >/proc/sys/vm/drop_caches; then cache="dropped"; fi
  fi
  start=$(date +%s.%N)
  "$BIN/model_store/ranker-store" pull --from "$WORK/repo" --store "$WORK/replica" >/dev/null
  pulled=$(date +%s.%N)
  PORT=$(free_port)
  "$BIN/server/ranker-server" --store "$WORK/replica" --listen "127.0.0.1:$PORT" \
    --metrics_listen 127.0.0.1:0 --admin_listen 127.0.0.1:0 >/dev/null 2>"$WORK/cold.err" &
  server=$!
  wait_serving "127.0.0.1:$PORT" >/dev/null
  serving=$(date +%s.%N)
  load=$(grep -o 'loaded and serving ([0-9.]* s)' "$WORK/cold.err" | grep -o '[0-9.]*')
  kill "$server"; wait "$server" 2>/dev/null || true
  python3 - "$bytes" "$start" "$pulled" "$serving" "$load" "$run" "$cache" <<'PY'
import sys
size, start, pulled, serving, load = map(float, sys.argv[1:6])
gb = size / 1e9
print("   run %s (page cache %s): %.2f GB; pull %.2f s (%.2f GB/s), server start to SERVING %.2f s "
      "(model load %.2f s = %.2f GB/s); total %.2f s = %.2f GB/s"
      % (sys.argv[6], sys.argv[7], gb, pulled - start, gb / (pulled - start), serving - pulled, load,
         gb / load, serving - start, gb / (serving - start)))
PY
done
