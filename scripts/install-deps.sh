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
)
# Tools the tests and deployment checks run for real (no recommends, or docker.io comes along).
TOOL_PACKAGES=(prometheus docker-compose gnuplot-nox curl ca-certificates openssl clang-14 libclang-rt-14-dev
  nginx python3 python3-yaml nodejs)
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
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
# The tests start nginx themselves, on their own ports. Where the package's service started
# its default site on port 80 just now, stop it: nothing of this project needs it.
if printf '%s\n' "${missing[@]}" | grep -qx nginx && command -v systemctl >/dev/null &&
   systemctl is-active --quiet nginx 2>/dev/null; then
  echo "install-deps: stopping and disabling the nginx service the package started (port 80)"
  $SUDO systemctl disable --now nginx
fi
