#!/usr/bin/env bash
# The test command: installs dependencies (if missing), builds, and runs the whole suite.
# README.md tells people to run this; .ci/run runs exactly this.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
scripts/build.sh
cd "${BUILD_DIR:-build}"
ctest --output-on-failure -j "$(nproc)" --timeout 600
