#!/bin/sh
# The compose stack's one-shot trainer: trains on a dataset mounted at /data/input when
# DATASET names a file there (e.g. DATASET=u.data), otherwise publishes the synthetic demo
# history model (with demo user histories); either way the result becomes the next version in
# /data/store. USER_MODE=id trains the older user-ID model instead.
# With SNAPSHOT_REPO set (the compose stack mounts one at /data/repo), the new version is then
# exported to that repository, where every replica's pull loop picks it up. The store's user
# histories go to the event stream when NATS_URL is set (every replica applies them; publishing
# the same ones again adds nothing), else with the version into the repository.
set -eu
STORE=/data/store
if [ -n "${DATASET:-}" ] && [ -f "/data/input/${DATASET}" ]; then
  echo "trainer: training ${KIND:-memcom} at ${RATIO:-16}x on /data/input/${DATASET}"
  ranker-train train --data "/data/input/${DATASET}" --name "${DATASET}" \
    --user_mode "${USER_MODE:-history}" --kind "${KIND:-memcom}" --ratio "${RATIO:-16}" \
    --publish "$STORE" "$@"
else
  echo "trainer: no dataset mounted (set DATASET and mount a folder at /data/input): publishing the demo model"
  ranker-store demo --store "$STORE" --user_mode "${USER_MODE:-history}" --users 100000 \
  --items 10000 --d 32 --kind memcom --ratio 16 --hidden 64,32 --seed "${SEED:-$(date +%s)}" "$@"
fi
if [ -n "${NATS_URL:-}" ]; then
  # The broker may still be starting beside us: a few tries.
  tries=0
  until ranker-store history publish --store "$STORE" --nats "$NATS_URL"; do
    tries=$((tries + 1))
    [ "$tries" -lt 10 ] || { echo "trainer: cannot publish the histories to $NATS_URL" >&2; exit 1; }
    sleep 2
  done
fi
if [ -n "${SNAPSHOT_REPO:-}" ]; then
  if [ -n "${NATS_URL:-}" ]; then
    ranker-store export --store "$STORE" --to "$SNAPSHOT_REPO"
  else
    ranker-store export --store "$STORE" --to "$SNAPSHOT_REPO" --with_histories
  fi
fi
