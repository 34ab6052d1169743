#!/usr/bin/env bash
# Installs every Debian 12 package the project needs to build, test and run.
# Used by README.md, .ci/run and docker/Dockerfile, so all three build the same way.
# Usage: scripts/install-deps.sh [--build-only]   (--build-only skips the test/deploy tools)
set -euo pipefail
BUILD_ONLY=0
[ "${1:-}" = "--build-only" ] && BUILD_ONLY=1

if [ "$(id -u)" -ne 0 ]; then SUDO=sudo; else SUDO=; fi

BUILD_PACKAGES=(
  cmake g++ make pkg-config git
  libgrpc++-dev protobuf-compiler-grpc libprotobuf-dev protobuf-compiler
  librocksdb-dev prometheus-cpp-dev libabsl-dev
  libgtest-dev libgmock-dev libbenchmark-dev libeigen3-dev
  libnats-dev
)
# Tools the tests and deployment checks run for real (no recommends, or docker.io comes along).
TOOL_PACKAGES=(prometheus docker-compose gnuplot-nox curl ca-certificates openssl clang-14 libclang-rt-14-dev
  nginx nats-server python3 python3-yaml python3-grpcio python3-protobuf nodejs
  python3-venv python3-grpc-tools python3-setuptools python3-wheel
  podman podman-compose runc netavark aardvark-dns debootstrap
  # netavark sets up container networks with iptables but does not depend on it (nor recommend
  # it): without it every container of the stack stays "Created".
  iptables
  clang-format
  # /usr/bin/time, for the benchmark scripts (Priority: standard, so absent on minimal installs).
  time)
[ "$BUILD_ONLY" = 1 ] && TOOL_PACKAGES=()

missing=()
for pkg in "${BUILD_PACKAGES[@]}" ${TOOL_PACKAGES[@]+"${TOOL_PACKAGES[@]}"}; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
# The Kubernetes manifest check runs npm, which Debian's nodejs ships apart (other builds of
# nodejs include it, and conflict with Debian's npm package).
if [ "$BUILD_ONLY" = 0 ] && ! command -v npm >/dev/null; then missing+=(npm); fi
if [ "${#missing[@]}" -eq 0 ]; then
  echo "install-deps: all packages present"
  exit 0
fi
echo "install-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
# nginx and nats-server are for the tests, which start their own on their own ports: their
# packages must not start (or enable at boot) a default instance (nginx's site on port 80,
# nats-server on 4222). policy-rc.d is Debian's switch for that; it holds back every service
# this one apt transaction installs (prometheus too: the tests start their own), and is
# removed however the script ends.
nginx_new=0
printf '%s\n' "${missing[@]}" | grep -qxE 'nginx|nats-server' && nginx_new=1
own_policy=0
if [ "$nginx_new" = 1 ] && [ ! -e /usr/sbin/policy-rc.d ]; then
  trap '$SUDO rm -f /usr/sbin/policy-rc.d' EXIT
  printf '#!/bin/sh\nexit 101\n' | $SUDO tee /usr/sbin/policy-rc.d >/dev/null
  $SUDO chmod +x /usr/sbin/policy-rc.d
  own_policy=1
fi
status=0
$SUDO apt-get update -qq && $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" ||
  status=$?
[ "$own_policy" = 1 ] && $SUDO rm -f /usr/sbin/policy-rc.d
if [ "$nginx_new" = 1 ] && command -v systemctl >/dev/null && [ -d /run/systemd/system ]; then
  $SUDO systemctl disable --now nginx nats-server >/dev/null 2>&1 || true
fi
exit "$status"
