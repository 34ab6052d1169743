#!/usr/bin/env bash
# The container stack, built and run for real with podman (scripts/build-images.sh, then
# podman-compose on deploy/docker-compose.yml without Grafana, which has no Debian package):
#   - the trainer publishes and exports, the replica pulls and serves: from the host,
#     `ranker-client health` is SERVING and `rank` answers through the balancer's port;
#   - the replica container's own HEALTHCHECK passes (`podman healthcheck run`);
#   - Prometheus (built from Debian's package) has the replica's target up and the alert rules
#     loaded;
#   - a second `run trainer` is hot-loaded by the running replica;
#   - `down -v` leaves no container and no named volume behind. podman-compose 1.0.3 leaves
#     what docker compose's `down -v` removes: the replicas' anonymous store volumes (the
#     image's VOLUME /data/store) and the project's network; the test removes those itself and
#     says how many, so runs do not pile them up.
# Usage: container_stack_test.sh BUILD_DIR   Exit 77 (skipped, reason printed) where no podman
# can start a container.
set -euo pipefail
SOURCE=$(cd "$(dirname "$0")/../.." && pwd)
BUILD=$(cd "${1:?usage: container_stack_test.sh BUILD_DIR}" && pwd)
CLIENT=$BUILD/client/ranker-client
skip() { echo "SKIPPED: $*"; exit 77; }
fail() { echo "FAIL: $*" >&2; exit 1; }
command -v podman >/dev/null || skip "podman is not installed (scripts/install-deps.sh installs it)"
command -v podman-compose >/dev/null || skip "podman-compose is not installed"
export CONTAINERS_CONF=$SOURCE/scripts/containers.conf

start=$SECONDS
"$SOURCE/scripts/build-images.sh" --engine podman >"$BUILD/container-images.log" 2>&1 || {
  # --network none: whether podman can start a container at all. A broken container network
  # (netavark without iptables, say) is not a reason to skip: the build's own error is shown.
  if ! podman run --rm --network none debian:bookworm true >/dev/null 2>&1; then
    skip "podman cannot start a container here: $(podman run --rm --network none debian:bookworm true 2>&1 | tail -1)"
  fi
  tail -30 "$BUILD/container-images.log" >&2
  fail "scripts/build-images.sh failed (log: $BUILD/container-images.log)"
}
echo "== images built in $((SECONDS - start)) s:"
podman images --format '   {{.Repository}}:{{.Tag}} {{.Size}}' | grep -E 'memcom-ranker|debian'

PROJECT=rankerci$$
compose() { podman-compose -p "$PROJECT" -f "$SOURCE/deploy/docker-compose.yml" "$@"; }
# Volumes mounted by the project's containers, anonymous ones included.
stack_volumes() {
  for c in $(podman ps -a -q --filter "label=io.podman.compose.project=$PROJECT"); do
    podman inspect -f '{{range .Mounts}}{{if eq .Type "volume"}}{{.Name}}{{"\n"}}{{end}}{{end}}' "$c"
  done | sort -u
}
# What podman-compose's down -v leaves: anonymous volumes and the network. Prints the count.
remove_leftovers() {
  local count=0 volume
  for volume in $1; do
    podman volume exists "$volume" && podman volume rm -f "$volume" >/dev/null && count=$((count + 1))
  done
  podman network exists "${PROJECT}_default" && podman network rm -f "${PROJECT}_default" >/dev/null &&
    count=$((count + 1))
  echo "$count"
}
cleanup() {
  local volumes
  volumes=$(stack_volumes 2>/dev/null || true)
  compose down -v >/dev/null 2>&1 || true
  remove_leftovers "$volumes" >/dev/null 2>&1 || true
}
trap cleanup EXIT
stack_start=$SECONDS
compose up -d nats trainer ranker balancer prometheus >"$BUILD/container-stack.log" 2>&1 ||
  { tail -30 "$BUILD/container-stack.log" >&2; fail "podman-compose up failed"; }

# podman-compose 1.0.3 reports success when podman created a container but could not start it
# (no iptables for netavark, say): such a container stays "created" and the wait below would
# last its whole 300 s. Fail at once instead, with podman's own error.
fail_if_never_started() {
  local stuck c
  stuck=$(podman ps -a --filter "label=io.podman.compose.project=$PROJECT" --filter status=created \
    --format '{{.Names}}')
  [ -z "$stuck" ] && return 0
  grep -i 'error' "$BUILD/container-stack.log" | tail -5 >&2 || true
  for c in $stuck; do
    echo "--- podman start $c:" >&2
    podman start "$c" 2>&1 | tail -3 >&2 || true
  done
  fail "containers never started: $(echo $stuck) (podman's error above)"
}
fail_if_never_started

echo "== waiting for the trainer's version to be served through the balancer (127.0.0.1:50051)"
deadline=$((SECONDS + 300))
until "$CLIENT" health --target 127.0.0.1:50051 --timeout 2s >/dev/null 2>&1; do
  fail_if_never_started
  if [ $SECONDS -ge $deadline ]; then
    podman ps -a --filter "label=io.podman.compose.project=$PROJECT" >&2
    for c in $(podman ps -a -q --filter "label=io.podman.compose.project=$PROJECT"); do
      echo "--- $(podman inspect -f '{{.Name}}' "$c")" >&2
      podman logs --tail 15 "$c" >&2 || true
    done
    fail "not SERVING through the balancer after 300 s"
  fi
  sleep 2
done
echo "   SERVING $((SECONDS - stack_start)) s after up"
"$CLIENT" rank --target 127.0.0.1:50051 --user 1 --k 5 || fail "rank through the balancer failed"

echo "== Record through the balancer: published to the nats service, applied by the replica"
"$CLIENT" record --target 127.0.0.1:50051 --user 424242 --items 1,2,3 ||
  fail "record through the balancer failed"
"$CLIENT" rank --target 127.0.0.1:50051 --user 424242 --k 5 | grep -q "pooled from 3 history items (stored)" ||
  fail "the recorded items are not in user 424242's stored history"
echo "   recorded, and the next Rank pooled them"

ranker=$(podman ps -q --filter "label=io.podman.compose.project=$PROJECT" \
  --filter "label=com.docker.compose.service=ranker" | head -1)
[ -n "$ranker" ] || fail "no ranker container"
podman healthcheck run "$ranker" || fail "the ranker container's HEALTHCHECK failed"
echo "== the replica's HEALTHCHECK passes"

echo "== Prometheus (127.0.0.1:9090): the replica found by DNS and up, the alert rules loaded"
deadline=$((SECONDS + 120))
until curl -sf http://127.0.0.1:9090/api/v1/targets | grep -q '"health":"up"'; do
  [ $SECONDS -lt $deadline ] || fail "no ranker target up in Prometheus: $(curl -s http://127.0.0.1:9090/api/v1/targets | head -c 600)"
  sleep 2
done
rules=$(curl -sf http://127.0.0.1:9090/api/v1/rules | grep -o '"type":"alerting"' | wc -l)
expected=$(grep -c '^ *- alert:' "$SOURCE/deploy/prometheus/alerts.yml")
[ "$rules" = "$expected" ] || fail "Prometheus loaded $rules alert rules, alerts.yml has $expected"
echo "   target up, $rules alert rules loaded"

echo "== a second publish is hot-loaded by the running replica"
served_version() {  # the version the balancer's replica serves, or "" if it cannot say
  "$CLIENT" info --target 127.0.0.1:50051 --json 2>/dev/null |
    sed -n 's/^ *"version": *"\([0-9]*\)".*/\1/p' | head -1 || true
}
before=$(served_version)
[ -n "$before" ] || fail "ranker-client info through the balancer gave no version"
# --no-deps: podman-compose 1.0.3's `run` otherwise runs `up --build` for every service first:
# it rebuilds every image (OCI format, dropping the HEALTHCHECK), tries to pull Grafana and
# restarts the exited trainer_1.
compose run --rm --no-deps -T trainer >>"$BUILD/container-stack.log" 2>&1 ||
  fail "the second trainer run failed"
deadline=$((SECONDS + 120))
while :; do
  now=$(served_version)
  [ -n "$now" ] && [ "$now" != "$before" ] && break
  [ $SECONDS -lt $deadline ] || fail "still serving $before 120 s after the second publish"
  sleep 2
done
echo "   version $before -> $now"

mounted=$(stack_volumes)
compose down -v >>"$BUILD/container-stack.log" 2>&1 || fail "podman-compose down -v failed"
trap - EXIT
left=$(podman ps -a -q --filter "label=io.podman.compose.project=$PROJECT" | wc -l)
volumes=$(podman volume ls -q | grep -c "^${PROJECT}_" || true)
if [ "$left" != 0 ] || [ "$volumes" != 0 ]; then
  fail "down -v left $left containers and $volumes volumes"
fi
removed=$(remove_leftovers "$mounted")
for volume in $mounted; do
  ! podman volume exists "$volume" || fail "volume $volume is still there"
done
! podman network exists "${PROJECT}_default" || fail "network ${PROJECT}_default is still there"
echo "== down -v left no container and no named volume; removed $removed anonymous volumes and"
echo "   networks podman-compose 1.0.3 leaves; the stack's part took $((SECONDS - stack_start)) s"
# Earlier builds' layers, now untagged, would otherwise pile up run after run.
podman image prune -f >/dev/null 2>&1 || true
echo "PASS"
