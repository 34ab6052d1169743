#!/bin/sh
# The compose stack's one-shot trainer: trains on a dataset mounted at /data/input when
# DATASET names a file there (e.g. DATASET=u.data), otherwise publishes the synthetic demo
# history model (with demo user histories); either way the result becomes the next version in
# /data/store. USER_MODE=id trains the older user-ID model instead.
set -eu
STORE=/data/store
if [ -n "${DATASET:-}" ] && [ -f "/data/input/${DATASET}" ]; then
  echo "trainer: training ${KIND:-memcom} at ${RATIO:-16}x on /data/input/${DATASET}"
  exec ranker-train train --data "/data/input/${DATASET}" --name "${DATASET}" \
    --user_mode "${USER_MODE:-history}" --kind "${KIND:-memcom}" --ratio "${RATIO:-16}" \
    --publish "$STORE" "$@"
fi
echo "trainer: no dataset mounted (set DATASET and mount a folder at /data/input): publishing the demo model"
exec ranker-store demo --store "$STORE" --user_mode "${USER_MODE:-history}" --users 100000 \
  --items 10000 --d 32 --kind memcom --ratio 16 --hidden 64,32 --seed "${SEED:-$(date +%s)}" "$@"
