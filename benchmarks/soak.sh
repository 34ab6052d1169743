#!/usr/bin/env bash
# Soak: closed-loop Rank load for a long time while a new model version is published and
# hot-loaded every few seconds (with a gc now and then, as production would). Reports failed
# calls, p99 latency per window and resident memory over time, and plots both.
# Not part of CI (it takes DURATION seconds). Usage:
#   benchmarks/soak.sh [--duration 600] [--reload_every 10] [--concurrency 4] [--out docs]
set -euo pipefail
cd "$(dirname "$0")/.."
DURATION=600 RELOAD_EVERY=10 CONCURRENCY=4 OUT=docs
while [ $# -gt 0 ]; do
  case "$1" in
    --duration) DURATION=$2; shift 2 ;; --reload_every) RELOAD_EVERY=$2; shift 2 ;;
    --concurrency) CONCURRENCY=$2; shift 2 ;; --out) OUT=$2; shift 2 ;;
    *) echo "unknown flag $1" >&2; exit 2 ;;
  esac
done
BIN=${BUILD_DIR:-build}
WORK=$(mktemp -d /tmp/soak-XXXXXX)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$WORK"' EXIT
STORE=$WORK/store
# The README's demo model: 100k users x 10k items, d=32, MEmCom 16x, MLP 96-64-32-1.
publish() { "$BIN/model_store/ranker-store" demo --store "$STORE" --seed "$1" >/dev/null; }
publish 1
"$BIN/server/ranker-server" --store "$STORE" --listen 127.0.0.1:0 --admin_listen 127.0.0.1:0 \
  --metrics_listen 127.0.0.1:0 --poll_interval 1h >"$WORK/server.out" 2>"$WORK/server.err" &
SERVER=$!
until grep -qs "^listening on" "$WORK/server.out"; do sleep 0.1; done
PORT=$(sed -n 's/^listening on 127.0.0.1:\([0-9]*\)/\1/p' "$WORK/server.out")
APORT=$(sed -n 's/^admin listening on port \([0-9]*\)/\1/p' "$WORK/server.out")
MPORT=$(sed -n 's/^metrics listening on port \([0-9]*\)/\1/p' "$WORK/server.out")
echo "soak: server pid $SERVER on :$PORT; ${DURATION}s of load at concurrency $CONCURRENCY," \
     "a new version every ${RELOAD_EVERY}s"

START=$(date +%s.%N)
( while kill -0 $SERVER 2>/dev/null; do
    printf '%s %s\n' "$(awk -v now="$(date +%s.%N)" -v start="$START" 'BEGIN { printf "%.1f", now - start }')" \
      "$(awk '/VmRSS/ {print $2}' /proc/$SERVER/status 2>/dev/null)"
    sleep 1
  done ) >"$WORK/rss.txt" &
"$BIN/client/ranker-client" bench --target 127.0.0.1:$PORT --concurrency "$CONCURRENCY" \
  --duration "${DURATION}s" --warmup 0s --candidates_per_request 100 \
  2>"$WORK/bench.err" >"$WORK/bench.out" &
BENCH=$!

version=1
while kill -0 $BENCH 2>/dev/null; do
  sleep "$RELOAD_EVERY"
  kill -0 $BENCH 2>/dev/null || break
  version=$((version + 1))
  publish "$version"
  "$BIN/client/ranker-client" reload --admin_target 127.0.0.1:$APORT >>"$WORK/reloads.txt" 2>&1 ||
    echo "reload of version $version FAILED" >>"$WORK/reloads.txt"
  if [ $((version % 10)) = 0 ]; then
    "$BIN/model_store/ranker-store" gc --store "$STORE" --keep 3 >>"$WORK/gc.txt" 2>&1
  fi
done
wait $BENCH || true
METRICS=$(curl -s 127.0.0.1:$MPORT/metrics)
kill $SERVER; wait $SERVER 2>/dev/null || true

mkdir -p "$OUT"
# Per-second lines: "  12.0s  9000 calls/s  p50 400.0 us  p99 900.0 us  max ... errors 0"
awk '/calls\/s/ { t=$1; sub("s","",t); print t, $2, $5, $8, $14 }' "$WORK/bench.err" >"$OUT/soak_latency.txt"
cp "$WORK/rss.txt" "$OUT/soak_rss.txt"
echo "== soak result (${DURATION}s, concurrency $CONCURRENCY, a version every ${RELOAD_EVERY}s)"
cat "$WORK/bench.out"
echo "versions published: $((version - 1)) after the first; reload calls failed:" \
     "$(grep -c FAILED "$WORK/reloads.txt" || true)"
echo "$METRICS" | grep -E '^ranker_model_reloads_total|^ranker_model_version ' | sed 's/^/  /'
echo "p99 per ${RELOAD_EVERY}s window (us): max of the per-second p99s in the window"
awk -v w="$RELOAD_EVERY" '{ b=int(($1-0.001)/w); if ($4>m[b]) m[b]=$4; if (b>n) n=b }
  END { for (i=0;i<=n;i++) printf "  %4d-%4ds %8.1f\n", i*w, (i+1)*w, m[i] }' "$OUT/soak_latency.txt"
# Memory after the first tenth of the run (warm: per-thread buffers, allocator pools) vs the end.
awk -v warm_at="$((DURATION / 10))" 'NR==1 {first=$2} $1>=warm_at && !warm {warm=$2}
  $2>0 {last=$2; if ($2>max) max=$2}
  END { printf "resident memory: %.1f MiB at start, %.1f MiB at %d s, %.1f MiB at the end, peak %.1f MiB; drift after warm-up %+.1f MiB\n",
        first/1024, warm/1024, warm_at, last/1024, max/1024, (last-warm)/1024 }' "$OUT/soak_rss.txt"
if command -v gnuplot >/dev/null; then
  gnuplot <<GP
set terminal pngcairo size 1000,600 noenhanced
set output "$OUT/soak.png"
set multiplot layout 2,1 title "Soak: ${DURATION}s of Rank load (concurrency $CONCURRENCY, 100 candidates), a new version every ${RELOAD_EVERY}s"
set ylabel "p99 latency per second (us)"; set grid
plot "$OUT/soak_latency.txt" using 1:4 with lines title "p99", "" using 1:3 with lines title "p50"
set ylabel "resident memory (MiB)"; set xlabel "seconds"
plot "$OUT/soak_rss.txt" using 1:(\$2/1024) with lines title "VmRSS of ranker-server"
unset multiplot
GP
  echo "plot: $OUT/soak.png"
fi
