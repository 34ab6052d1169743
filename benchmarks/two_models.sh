#!/usr/bin/env bash
# Rank(100 candidates) throughput of a server holding one model against a server holding the
# same store as the default of two models (--model_config), same run, rounds interleaved so that
# the machine's drift falls on both (docs/performance.md, "Several models").
# Usage: benchmarks/two_models.sh [rounds, default 3]
set -euo pipefail
cd "$(dirname "$0")/.."
B=${BUILD_DIR:-build}
ROUNDS=${1:-3}
W=$(mktemp -d /tmp/ranker-two-models-XXXXXX)
trap 'kill $(cat $W/pids 2>/dev/null) 2>/dev/null || true; rm -rf $W' EXIT
$B/model_store/ranker-store demo --store $W/feed --users 100000 --items 10000 --d 32 --kind memcom --ratio 16 --hidden 64,32 >/dev/null
$B/model_store/ranker-store demo --store $W/related --users 1000 --items 3000 --d 32 --kind memcom --ratio 16 --hidden 64,32 >/dev/null
cat > $W/models.pbtxt <<CFG
default_model: "feed"
models { name: "feed" store: "$W/feed" }
models { name: "related" store: "$W/related" }
CFG
start() { local n=$1; shift; "$B/server/ranker-server" "$@" --listen 127.0.0.1:0 --admin_listen= --metrics_listen= --histories none > $W/out.$n 2>&1 & echo $! >> $W/pids; for _ in $(seq 100); do grep -q '^listening on' $W/out.$n 2>/dev/null && break; sleep 0.05; done; sed -n 's/^listening on 127.0.0.1:\([0-9]*\)/\1/p' $W/out.$n; }
ONE=$(start one --store=$W/feed)
TWO=$(start two --model_config=$W/models.pbtxt)
bench() { $B/client/ranker-client bench --target 127.0.0.1:$1 --duration 8s --concurrency 4 --candidates_per_request 100 --progress=false --json | /usr/bin/python3 -c 'import json,sys; print(json.load(sys.stdin)["qps"])'; }
for r in $(seq "$ROUNDS"); do
  a=$(bench $ONE); b=$(bench $TWO)
  /usr/bin/python3 -c "print(f'round $r: one model {float($a):.0f} QPS, two models {float($b):.0f} QPS ({float($b)/float($a):.1%})')"
done
