#!/usr/bin/env bash
# Three ranker-server replicas, each on its own local store fed by `ranker-store pull --follow`
# from one snapshot repository, first behind a real nginx (deploy/nginx/nginx.conf), then
# behind the client's own round robin. Under continuous `ranker-client bench` load:
#   (a) every replica serves a share of the calls (each replica's /metrics),
#   (b) a version exported to the repository is served by all three (the skew is printed),
#   (c) a replica killed with SIGKILL mid-load and restarted costs the client 0 failed calls
#       (nginx sends calls that cannot reach it elsewhere; the few in flight on it at the kill
#       come back UNAVAILABLE and the client's retry policy resends them through nginx),
#   (d) the same with client-side round robin (--lb round_robin, Rank retried) and no nginx,
#   (e) with every replica down, nginx answers UNAVAILABLE in gRPC (not an HTML error page).
# Usage: scale_out_test.sh BUILD_DIR     Exit 77 (skipped, with the reason) without nginx.
set -euo pipefail
SOURCE=$(cd "$(dirname "$0")/../.." && pwd)
BUILD=$(cd "${1:?usage: scale_out_test.sh BUILD_DIR}" && pwd)
STORE_BIN=$BUILD/model_store/ranker-store
SERVER_BIN=$BUILD/server/ranker-server
CLIENT_BIN=$BUILD/client/ranker-client
NGINX_BIN=$(command -v nginx || echo /usr/sbin/nginx)
if [ ! -x "$NGINX_BIN" ]; then
  echo "SKIPPED: nginx is not installed (scripts/install-deps.sh installs it)"
  exit 77
fi
REPLICAS=3
LOAD_SECONDS=${SCALE_OUT_LOAD_SECONDS:-10}

WORK=$(mktemp -d /tmp/ranker-scale-out.XXXXXX)
declare -a PORT METRICS_PORT SERVER_PID PULL_PID
cleanup() {
  local pid
  for pid in "${SERVER_PID[@]:-}" "${PULL_PID[@]:-}"; do
    [ -n "$pid" ] && kill "$pid" 2>/dev/null || true
  done
  [ -f "$WORK/nginx/nginx.pid" ] && kill "$(cat "$WORK/nginx/nginx.pid")" 2>/dev/null || true
  wait 2>/dev/null || true
  rm -rf "$WORK"
}
trap cleanup EXIT
fail() {
  echo "FAIL: $*" >&2
  local log
  for log in "$WORK"/*.err "$WORK"/nginx/nginx.err; do
    [ -s "$log" ] && { echo "--- tail of $log" >&2; tail -n 15 "$log" >&2; }
  done
  exit 1
}
free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}
now() { date +%s.%N; }
# The first sample of a metric (name plus a label filter) on a replica's /metrics, or 0.
metric() {  # metric REPLICA NAME [LABEL_REGEX]
  curl -sf "http://127.0.0.1:${METRICS_PORT[$1]}/metrics" |
    awk -v name="$2" -v labels="${3:-}" \
      '!found && ($1 == name || (index($1, name "{") == 1 && $1 ~ labels)) { value = $2; found = 1 }
       END { print found ? value : 0 }'
}
rank_calls() { metric "$1" ranker_requests_total 'method="Rank".*code="OK"|code="OK".*method="Rank"'; }
served_version() { metric "$1" ranker_model_version; }

start_replica() {  # start_replica R: the server on its fixed ports, over its own store
  local r=$1
  "$SERVER_BIN" --store "$WORK/replica$r" --listen "127.0.0.1:${PORT[$r]}" \
    --metrics_listen "127.0.0.1:${METRICS_PORT[$r]}" --admin_listen 127.0.0.1:0 \
    --poll_interval 500ms >>"$WORK/server$r.out" 2>>"$WORK/server$r.err" &
  SERVER_PID[$r]=$!
  local deadline=$((SECONDS + 60))
  until "$CLIENT_BIN" health --target "127.0.0.1:${PORT[$r]}" --timeout 1s >/dev/null 2>&1; do
    kill -0 "${SERVER_PID[$r]}" 2>/dev/null || fail "replica $r exited at start"
    [ $SECONDS -lt $deadline ] || fail "replica $r is not SERVING after 60 s"
    sleep 0.1
  done
}
kill_replica() {  # SIGKILL: no drain, no goodbye; its callers see connections reset
  kill -9 "${SERVER_PID[$1]}"
  wait "${SERVER_PID[$1]}" 2>/dev/null || true
}
bench() {  # bench NAME TARGET [flags]: continuous Rank load in the background, JSON to NAME.json
  local name=$1 target=$2
  shift 2
  "$CLIENT_BIN" bench --target "$target" --duration "${LOAD_SECONDS}s" --warmup 0s \
    --concurrency 8 --candidates_per_request 100 --users 1000 --items 2000 --k 10 \
    --json --progress=false "$@" >"$WORK/$name.json" 2>"$WORK/$name.err" &
  BENCH_PID=$!
}
# Waits for the background bench; fails on any failed call. Sets calls, qps, p50 and p99.
bench_result() {  # bench_result NAME
  wait "$BENCH_PID" || true
  local result
  result=$(python3 - "$WORK/$1.json" <<'EOF'
import json, sys
report = json.load(open(sys.argv[1]))
errors = report.get("errors", {})
calls = report.get("calls", 0)
if errors or calls == 0:
    sys.exit(1)
latency = report["latency_us"]
print(int(calls), round(report["qps"]), round(latency["p50"]), round(latency["p99"]))
EOF
  ) || fail "$1: calls failed or no report: $(cat "$WORK/$1.json" 2>/dev/null)"
  read -r calls qps p50 p99 <<<"$result"
}

declare -a CALLS_BEFORE
note_calls_before() {
  local r
  for r in $(seq 0 $((REPLICAS - 1))); do CALLS_BEFORE[$r]=$(rank_calls "$r"); done
}
# Each replica served at least 5% of the last bench's calls since note_calls_before (the
# restarted one: since its restart, its counters having started again at zero).
check_every_replica_served() {  # check_every_replica_served RESTARTED_REPLICA
  local r served
  for r in $(seq 0 $((REPLICAS - 1))); do
    served=$(rank_calls "$r")
    [ "$r" = "$1" ] || served=$(python3 -c "print(int($served - ${CALLS_BEFORE[$r]}))")
    echo "   replica $r served $served Rank calls"
    python3 -c "import sys; sys.exit(0 if $served >= 0.05 * $calls else 1)" ||
      fail "replica $r served $served of $calls calls"
  done
}

echo "== a repository with version 1, three replicas pulling from it"
"$STORE_BIN" demo --store "$WORK/primary" --users 1000 --items 2000 --d 16 --kind memcom \
  --ratio 4 --seed 1 >/dev/null
"$STORE_BIN" export --store "$WORK/primary" --to "$WORK/repo" >/dev/null
for r in $(seq 0 $((REPLICAS - 1))); do
  PORT[$r]=$(free_port)
  METRICS_PORT[$r]=$(free_port)
  "$STORE_BIN" pull --from "$WORK/repo" --store "$WORK/replica$r" >/dev/null
  "$STORE_BIN" pull --from "$WORK/repo" --store "$WORK/replica$r" --follow 500ms \
    >"$WORK/pull$r.out" 2>"$WORK/pull$r.err" &
  PULL_PID[$r]=$!
  start_replica "$r"
  [ "$(served_version "$r")" = 1 ] || fail "replica $r does not serve version 1"
done

echo "== nginx in front (deploy/nginx/nginx.conf for these replicas: deploy/nginx/render-config.sh)"
mkdir -p "$WORK/nginx/temp"
NGINX_PORT=$(free_port)
replicas=()
for r in $(seq 0 $((REPLICAS - 1))); do replicas+=("127.0.0.1:${PORT[$r]}"); done
"$SOURCE/deploy/nginx/render-config.sh" "127.0.0.1:$NGINX_PORT" "${replicas[@]}" \
  >"$WORK/nginx/nginx.conf"
grep -q "server 127.0.0.1:${PORT[2]} " "$WORK/nginx/nginx.conf" || fail "no upstream line for replica 2"
grep -q "listen 127.0.0.1:$NGINX_PORT http2;" "$WORK/nginx/nginx.conf" || fail "no listen line"
"$NGINX_BIN" -p "$WORK/nginx" -c "$WORK/nginx/nginx.conf" 2>"$WORK/nginx/nginx.err" ||
  fail "nginx did not start"
deadline=$((SECONDS + 20))
until "$CLIENT_BIN" health --target "127.0.0.1:$NGINX_PORT" --timeout 1s >/dev/null 2>&1; do
  [ $SECONDS -lt $deadline ] || fail "no health answer through nginx"
  sleep 0.1
done

echo "== (a, c) load through nginx; replica 1 is killed with SIGKILL after 3 s, restarted at 4 s"
note_calls_before
bench nginx_kill "127.0.0.1:$NGINX_PORT" --rank_attempts 3
sleep 3
kill_replica 1
sleep 1
start_replica 1
bench_result nginx_kill
echo "   $calls calls, 0 failed ($qps/s, p50 $p50 us, p99 $p99 us)"
check_every_replica_served 1

echo "== (b) version 2 exported under load: every replica moves to it"
bench nginx_switch "127.0.0.1:$NGINX_PORT" --rank_attempts 1
sleep 1
"$STORE_BIN" demo --store "$WORK/primary" --users 1000 --items 2000 --d 16 --kind memcom \
  --ratio 4 --seed 2 >/dev/null
"$STORE_BIN" export --store "$WORK/primary" --to "$WORK/repo" >/dev/null
exported=$(now)
declare -a switched
deadline=$((SECONDS + 30))
while :; do
  pending=0
  for r in $(seq 0 $((REPLICAS - 1))); do
    if [ -z "${switched[$r]:-}" ]; then
      if [ "$(served_version "$r")" = 2 ]; then switched[$r]=$(now); else pending=1; fi
    fi
  done
  [ $pending = 0 ] && break
  [ $SECONDS -lt $deadline ] || fail "not every replica serves version 2 after 30 s"
  sleep 0.05
done
python3 - "$exported" "${switched[@]}" <<'EOF'
import sys
exported, *times = map(float, sys.argv[1:])
print("   export to first replica serving: %.2f s, to last: %.2f s, skew first-last %.2f s"
      % (min(times) - exported, max(times) - exported, max(times) - min(times)))
EOF
bench_result nginx_switch
echo "   $calls calls during the switch, 0 failed"

echo "== (d) client-side round robin, no nginx; replica 2 killed after 3 s, restarted at 4 s"
targets="ipv4:"
for r in $(seq 0 $((REPLICAS - 1))); do targets+="127.0.0.1:${PORT[$r]},"; done
note_calls_before
bench client_rr "${targets%,}" --lb round_robin --rank_attempts 3
sleep 3
kill_replica 2
sleep 1
start_replica 2
bench_result client_rr
echo "   $calls calls, 0 failed ($qps/s, p50 $p50 us, p99 $p99 us)"
check_every_replica_served 2

echo "== (e) every replica down: nginx answers in gRPC (UNAVAILABLE), not with an HTML page"
for r in $(seq 0 $((REPLICAS - 1))); do kill_replica "$r"; done
if answer=$("$CLIENT_BIN" rank --target "127.0.0.1:$NGINX_PORT" --user 1 --k 3 \
              --candidates 1,2,3 --rank_attempts 1 --timeout 10s 2>&1); then
  fail "Rank through nginx succeeded with every replica down: $answer"
fi
grep -q "UNAVAILABLE" <<<"$answer" && grep -q "no ranker replica answered (nginx)" <<<"$answer" ||
  fail "expected nginx's gRPC UNAVAILABLE, got: $answer"
echo "   $answer"
echo "PASS"
