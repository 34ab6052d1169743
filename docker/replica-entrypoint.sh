#!/bin/sh
# One replica of a fleet: a pull loop keeps this container's own store (/data/store) up to date
# from the shared snapshot repository (/data/repo), and ranker-server serves from that store.
# The server answers NOT_SERVING until the first version has been pulled, then hot-loads each
# new one. Arguments are passed to ranker-server. SIGTERM drains the server, then stops the pull.
#   REPO (default /data/repo), STORE (default /data/store), PULL_INTERVAL (default 5s)
set -eu
REPO=${REPO:-/data/repo}
STORE=${STORE:-/data/store}
PULL_INTERVAL=${PULL_INTERVAL:-5s}

ranker-store pull --from "$REPO" --store "$STORE" --follow "$PULL_INTERVAL" &
pull=$!
# The server opens the store read-only, so it starts once the pull has created it.
until [ -f "$STORE/CURRENT" ]; do
  kill -0 "$pull" 2>/dev/null || { echo "replica: the pull loop exited" >&2; exit 1; }
  sleep 0.5
done
ranker-server --store "$STORE" "$@" &
server=$!
trap 'kill -TERM "$server" 2>/dev/null || true' TERM INT
status=0
wait "$server" || status=$?
# A signal interrupts `wait`: wait again for the server's graceful shutdown to finish.
if kill -0 "$server" 2>/dev/null; then
  status=0
  wait "$server" || status=$?
fi
kill -TERM "$pull" 2>/dev/null || true
wait "$pull" || true
exit "$status"
