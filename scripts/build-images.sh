#!/usr/bin/env bash
# Builds the project's container images with podman (or docker where a Docker engine runs):
#   debian:bookworm, debian:bookworm-slim  the base, made from Debian's archive with debootstrap
#                                          when missing (no registry is reachable here)
#   memcom-ranker:latest                   docker/Dockerfile (server, client, store, trainer)
#   memcom-ranker-nginx:latest             docker/nginx.Dockerfile (the gRPC balancer)
#   memcom-ranker-prometheus:latest        docker/prometheus.Dockerfile (Debian's prometheus)
#   memcom-ranker-nats:latest              docker/nats.Dockerfile (Debian's nats-server, the
#                                          fleet's event log)
# Usage: scripts/build-images.sh [--engine podman|docker]
# podman runs with runc and ulimits this kind of machine allows (containers.conf beside this
# script, passed through CONTAINERS_CONF; no system file is edited) and builds with
# --format docker so that the images keep their HEALTHCHECK.
set -euo pipefail
cd "$(dirname "$0")/.."
ENGINE=${ENGINE:-}
[ "${1:-}" = "--engine" ] && ENGINE=$2
if [ -z "$ENGINE" ]; then
  if command -v podman >/dev/null; then ENGINE=podman; else ENGINE=docker; fi
fi
command -v "$ENGINE" >/dev/null || { echo "build-images: no $ENGINE" >&2; exit 1; }
FORMAT=()
if [ "$ENGINE" = podman ]; then
  export CONTAINERS_CONF=${CONTAINERS_CONF:-$PWD/scripts/containers.conf}
  FORMAT=(--format docker)
fi

if ! "$ENGINE" image exists debian:bookworm 2>/dev/null &&
   ! "$ENGINE" image inspect debian:bookworm >/dev/null 2>&1; then
  mirror=$(sed -n 's/^URIs: *//p' /etc/apt/sources.list.d/debian.sources 2>/dev/null | head -1)
  mirror=${mirror:-http://deb.debian.org/debian}
  rootfs=$(mktemp -d /tmp/ranker-rootfs.XXXXXX)
  trap 'rm -rf "$rootfs"' EXIT
  echo "build-images: making debian:bookworm from $mirror (debootstrap, about a minute)"
  debootstrap --variant=minbase bookworm "$rootfs" "$mirror" >/dev/null
  rm -rf "$rootfs"/var/cache/apt/archives/*.deb "$rootfs"/var/lib/apt/lists/*
  tar -C "$rootfs" -c . | "$ENGINE" import - debian:bookworm >/dev/null
  rm -rf "$rootfs"
  trap - EXIT
fi
# minbase is already small: the slim tag names the same image.
"$ENGINE" tag debian:bookworm debian:bookworm-slim

build() {  # build TAG DOCKERFILE
  local start=$SECONDS
  echo "build-images: $1 from $2"
  "$ENGINE" build ${FORMAT[@]+"${FORMAT[@]}"} --network host -f "$2" -t "$1" .
  echo "build-images: $1 built in $((SECONDS - start)) s"
}
# The build stage is tagged too, so that pruning dangling images (the stack test does) keeps its
# package layers cached for the next build.
start=$SECONDS
echo "build-images: memcom-ranker-build:latest (the build stage of docker/Dockerfile)"
"$ENGINE" build ${FORMAT[@]+"${FORMAT[@]}"} --network host --target build -f docker/Dockerfile \
  -t memcom-ranker-build:latest .
echo "build-images: memcom-ranker-build:latest built in $((SECONDS - start)) s"
build memcom-ranker:latest docker/Dockerfile
build memcom-ranker-nginx:latest docker/nginx.Dockerfile
build memcom-ranker-prometheus:latest docker/prometheus.Dockerfile
build memcom-ranker-nats:latest docker/nats.Dockerfile
"$ENGINE" images --format '{{.Repository}}:{{.Tag}} {{.Size}}' | grep -E 'memcom-ranker|debian'
