#!/usr/bin/env bash
# The event log's figures (docs/performance.md), on a nats-server of its own in a temporary
# directory:
#   1. apply: one replica replaying a stream of 200,000 messages x 5 events (a new replica's
#      rebuild), and the history database alone;
#   2. Record calls/s through one server, one machine (fsync per group commit) and fleet
#      (publish + broker ack per user message);
#   3. Rank throughput on a replica with and without 1,000 events/s flowing through the fleet,
#      same run, and event-to-visible percentiles from one replica's Record to the other's Rank;
#      then the same load outside the replica's fleet (the control: how much the load itself
#      takes from a 2-core machine).
#   4. the same with the events published straight to the stream (as a backend may) and replica
#      a stopped, so that b is the only replica on the machine (in a fleet each has its own),
#      and its control (the same publishing to a stream b does not read).
#   Sections 3 and 4 each run ROUNDS rounds (without, with, control: interleaved, so that the
#   machine's drift falls on all of them) and report each round and the median ratios.
# Usage: benchmarks/events.sh [--duration 8s] [--rounds 3]
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${BUILD_DIR:-build}
DURATION=8s
ROUNDS=3
while [ $# -gt 0 ]; do
  case $1 in
    --duration) DURATION=$2; shift 2 ;;
    --rounds) ROUNDS=$2; shift 2 ;;
    *) echo "usage: benchmarks/events.sh [--duration 8s] [--rounds 3]" >&2; exit 2 ;;
  esac
done
NATS=/usr/sbin/nats-server
[ -x "$NATS" ] || { echo "events.sh: $NATS is not installed (apt install nats-server)" >&2; exit 1; }
WORK=$(mktemp -d /tmp/ranker-events-bench-XXXXXX)
# Servers start inside $(...) subshells, so they are not this shell's jobs: their pids go to a
# file the cleanup reads (a leaked replica would go on taking CPU from the next run).
trap 'kill $(jobs -p) $(cat "$WORK/pids" 2>/dev/null) 2>/dev/null || true; wait 2>/dev/null || true
      rm -rf "$WORK"' EXIT
port() { /usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
NATS_PORT=$(port)
"$NATS" -js -sd "$WORK/nats" -a 127.0.0.1 -p "$NATS_PORT" >"$WORK/nats.log" 2>&1 &
NATS_PID=$!
URL=nats://127.0.0.1:$NATS_PORT
for _ in $(seq 100); do (exec 3<>/dev/tcp/127.0.0.1/"$NATS_PORT") 2>/dev/null && break; sleep 0.1; done

echo "== 1. apply: a replica replaying the stream"
"$BIN/benchmarks/ranker_event_bench" apply --nats "$URL" --messages 200000 --items_per_message 5

"$BIN/model_store/ranker-store" demo --store "$WORK/store" --user_mode history --users 100000 \
  --items 10000 --d 32 --kind memcom --ratio 16 --hidden 64,32 >/dev/null
start_server() {  # start_server NAME FLAGS...: prints the gRPC port
  local name=$1; shift
  "$BIN/server/ranker-server" --store "$WORK/store" --listen 127.0.0.1:0 --admin_listen= \
    --metrics_listen= --histories "$WORK/$name" "$@" >"$WORK/$name.out" 2>"$WORK/$name.err" &
  echo $! >>"$WORK/pids"
  echo $! >"$WORK/$name.pid"
  for _ in $(seq 200); do
    grep -q '^listening on' "$WORK/$name.out" 2>/dev/null && break
    sleep 0.05
  done
  sed -n 's/^listening on 127.0.0.1:\([0-9]*\)/\1/p' "$WORK/$name.out"
}

echo "== 2. Record calls through one server ($DURATION, 8 threads, 10 interactions per call)"
LOCAL=$(start_server local)
echo -n "one machine: "
"$BIN/benchmarks/ranker_event_bench" record --target 127.0.0.1:"$LOCAL" --duration "$DURATION" \
  --items_per_message 10
A=$(start_server replica-a --nats "$URL")
B=$(start_server replica-b --nats "$URL")
echo -n "fleet:       "
"$BIN/benchmarks/ranker_event_bench" record --target 127.0.0.1:"$A" --duration "$DURATION" \
  --items_per_message 10

echo "== 3. Rank(100 candidates) on replica b, without and with 1,000 events/s on a"
bench() {
  "$BIN/client/ranker-client" bench --target 127.0.0.1:"$B" --duration "$DURATION" \
    --concurrency 4 --candidates_per_request 100 --progress=false --json |
    /usr/bin/python3 -c 'import json,sys; r=json.load(sys.stdin); print(r["qps"])'
}
# The control: the same Record load on the one-machine server, outside b's fleet. b applies
# nothing then, so what Rank loses is only the machine's cores going to the load itself.
: >"$WORK/rounds.txt"
# CPU of each process of the event path while events flow (from /proc, in 1/100 s ticks): robust
# where QPS ratios are noisy, and b's share is what a replica on a machine of its own pays.
ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
sample_cpu() {  # sample_cpu LOAD_PID: appends "broker a b load" in % of one core
  local pids="$NATS_PID $(cat "$WORK/replica-a.pid") $(cat "$WORK/replica-b.pid") $1" before after
  sleep 2
  before=$(for p in $pids; do ticks "$p"; done | tr '\n' ' ')
  sleep 4
  after=$(for p in $pids; do ticks "$p"; done | tr '\n' ' ')
  /usr/bin/python3 -c "import sys; b, a = sys.argv[1].split(), sys.argv[2].split()
print(' '.join(str((int(y) - int(x)) / 4) for x, y in zip(b, a)))" "$before" "$after" \
    >>"$WORK/cpu.txt"
}
for round in $(seq "$ROUNDS"); do
  without=$(bench)
  "$BIN/benchmarks/ranker_event_bench" record --target 127.0.0.1:"$A" --probe_target 127.0.0.1:"$B" \
    --duration "$DURATION" --rate 1000 --threads 2 --items_per_message 10 >"$WORK/flowing.txt" &
  flowing=$!
  with=$(bench)
  wait "$flowing"
  echo "round $round: $(tail -2 "$WORK/flowing.txt" | tr '\n' ';')"
  "$BIN/benchmarks/ranker_event_bench" record --target 127.0.0.1:"$LOCAL" --duration "$DURATION" \
    --rate 1000 --threads 2 --items_per_message 10 >/dev/null &
  control_load=$!
  control=$(bench)
  wait "$control_load"
  echo "$without $with $control" >>"$WORK/rounds.txt"
done
# The event path's CPU with no Rank load: what each process pays for 1,000 events/s.
"$BIN/benchmarks/ranker_event_bench" record --target 127.0.0.1:"$A" --duration 8s --rate 1000 \
  --threads 2 --items_per_message 10 >/dev/null &
cpu_load=$!
sample_cpu "$cpu_load"
wait "$cpu_load"
echo "== 4. Rank(100 candidates) on replica b alone, without and with 1,000 events/s published"
kill "$(cat "$WORK/replica-a.pid")" "$(cat "$WORK/local.pid")"
: >"$WORK/published-rounds.txt"
for round in $(seq "$ROUNDS"); do
  without=$(bench)
  # The same 1,000 events/s published straight to the stream, as a backend may: b's loss is its
  # apply plus what the broker and the publisher take from the machine's two cores.
  "$BIN/benchmarks/ranker_event_bench" publish --nats "$URL" --probe_target 127.0.0.1:"$B" \
    --duration "$DURATION" --rate 1000 --items_per_message 1 >"$WORK/published.txt" &
  publishing=$!
  published=$(bench)
  wait "$publishing"
  echo "round $round, published: $(tail -2 "$WORK/published.txt" | tr '\n' ';')"
  # Its control: the same publishing to a stream b does not read.
  "$BIN/benchmarks/ranker_event_bench" publish --nats "$URL" --stream RANKER_EVENTS_CONTROL \
    --subject_prefix ranker.control --duration "$DURATION" --rate 1000 --items_per_message 1 \
    >/dev/null &
  publish_control_load=$!
  publish_control=$(bench)
  wait "$publish_control_load"
  echo "$without $published $publish_control" >>"$WORK/published-rounds.txt"
done
/usr/bin/python3 - "$WORK/rounds.txt" "$WORK/cpu.txt" "$WORK/published-rounds.txt" <<'PY'
import statistics, sys
rounds = [tuple(map(float, line.split())) for line in open(sys.argv[1])]
published = [tuple(map(float, line.split())) for line in open(sys.argv[3])]
median = lambda rows, column: statistics.median(r[column] / r[0] for r in rows)
for i, (w, f, c) in enumerate(rounds, 1):
    print(f'round {i}: Rank QPS on b without events {w:.0f}; with 1,000 events/s recorded through '
          f'replica a {f:.0f} ({f/w:.1%}); control (the same load outside the fleet) {c:.0f} '
          f'({c/w:.1%})')
for i, (w, p, pc) in enumerate(published, 1):
    print(f'round {i}, b alone: Rank QPS without events {w:.0f}; with 1,000 events/s published '
          f'straight to the stream {p:.0f} ({p/w:.1%}); control (a stream b does not read) '
          f'{pc:.0f} ({pc/w:.1%})')
print(f'median over {len(rounds)} rounds: with events recorded through replica a '
      f'{median(rounds, 1):.1%} of without (control {median(rounds, 2):.1%}); b alone with events '
      f'published straight to the stream {median(published, 1):.1%} (control '
      f'{median(published, 2):.1%})')
broker, a, b, load = map(float, open(sys.argv[2]).read().split())
print(f'CPU for 1,000 events/s (100 Record calls of 10 users), no Rank load, % of one core: '
      f'broker {broker:.1f}, replica a (Record, publish, its apply) {a:.1f}, replica b (apply) '
      f'{b:.1f}, the Record load {load:.1f}')
PY
