#!/bin/sh
# One replica of a fleet: a pull loop keeps this container's own store up to date from the
# shared snapshot repository, and ranker-server serves from that store, hot-loading each new
# version. Arguments are passed to ranker-server. SIGTERM stops both (the server drains its
# calls in flight first); if either process dies, the container exits so that its restart
# policy starts it again.
#   REPO (default /data/repo), STORE (default /data/store/db), PULL_INTERVAL (default 5s),
#   KEEP_VERSIONS (default 2: older pulled versions are removed)
# The store sits one level inside the /data/store volume because pull stages its copies next
# to the store, and they must be on the store's file system to be moved in, not copied.
set -u
REPO=${REPO:-/data/repo}
STORE=${STORE:-/data/store/db}
PULL_INTERVAL=${PULL_INTERVAL:-5s}
KEEP_VERSIONS=${KEEP_VERSIONS:-2}
server=""
pull=""
first=""
stopping=0
stop() {
  stopping=1
  for pid in $first $server $pull; do kill -TERM "$pid" 2>/dev/null; done
}
trap stop TERM INT

# The first version, before the server starts (it opens the store read-only, so the store
# must exist); until the repository has one, wait. In the background, so that a signal stops
# it at once.
while :; do
  ranker-store pull --from "$REPO" --store "$STORE" --keep "$KEEP_VERSIONS" &
  first=$!
  status=0
  wait "$first" || status=$?
  first=""
  [ "$stopping" = 1 ] && exit 0
  [ "$status" = 0 ] && break
  echo "replica: the first pull from $REPO failed (see above); trying again in 2 s" >&2
  sleep 2 &
  wait $! || true
  [ "$stopping" = 1 ] && exit 0
done

ranker-store pull --from "$REPO" --store "$STORE" --keep "$KEEP_VERSIONS" \
  --follow "$PULL_INTERVAL" &
pull=$!
ranker-server --store "$STORE" "$@" &
server=$!

# Until a signal or until either process exits (`wait` returns early on a trapped signal).
while kill -0 "$server" 2>/dev/null && kill -0 "$pull" 2>/dev/null; do
  sleep 1 &
  wait $! || true
done
failed=0
if [ "$stopping" = 0 ]; then
  failed=1
  kill -0 "$pull" 2>/dev/null || echo "replica: the pull loop exited; stopping the server" >&2
  kill -0 "$server" 2>/dev/null || echo "replica: the server exited" >&2
  stop
fi
# `wait` also returns when another signal arrives: keep waiting until the server has drained.
while :; do
  wait "$server"
  status=$?
  kill -0 "$server" 2>/dev/null || break
done
wait "$pull" || true
[ "$failed" = 1 ] && [ "$status" = 0 ] && status=1
exit "$status"
