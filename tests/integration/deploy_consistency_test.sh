#!/usr/bin/env bash
# What CI proves is what the image does: the Dockerfile must install with the same dependency
# script and build with the same build script that .ci/run (via scripts/test.sh) uses, and
# README.md must give the same test command that .ci/run runs.
set -euo pipefail
cd "$(dirname "$0")/../.."
fail() { echo "FAIL: $*" >&2; exit 1; }
grep -qE '^RUN .*scripts/install-deps\.sh' docker/Dockerfile || fail "Dockerfile does not run scripts/install-deps.sh"
grep -qE '^RUN .*scripts/build\.sh' docker/Dockerfile || fail "Dockerfile does not run scripts/build.sh"
grep -qE '^scripts/install-deps\.sh' scripts/test.sh || fail "scripts/test.sh does not run scripts/install-deps.sh"
grep -qE '^scripts/build\.sh' scripts/test.sh || fail "scripts/test.sh does not run scripts/build.sh"
grep -qE '^exec scripts/test\.sh' .ci/run || fail ".ci/run does not run scripts/test.sh"
grep -qE '^scripts/test\.sh ' README.md || fail "README.md does not give scripts/test.sh as the test command"
grep -qE '^scripts/run-demo\.sh ' README.md || fail "README.md does not give scripts/run-demo.sh"
# The image's binaries are the ones the build script produces.
for binary in server/ranker-server client/ranker-client model_store/ranker-store trainer/ranker-train; do
  grep -q "build/$binary" docker/Dockerfile || fail "Dockerfile does not copy build/$binary"
done
grep -q '^USER ranker' docker/Dockerfile || fail "the image must not run as root"
grep -q '^HEALTHCHECK' docker/Dockerfile || fail "the image needs a HEALTHCHECK"
echo "Dockerfile, scripts/test.sh, .ci/run and README.md agree"
