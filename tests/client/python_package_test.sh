#!/usr/bin/env bash
# client/python as users install it: a fresh virtual environment, the package installed with
# client/python/README.md's command (offline), imported from outside the repository with no
# PYTHONPATH, then python_client_test.py run with it against the real server.
# Usage: python_package_test.sh BUILD_DIR   (exit 77 = skipped, reason printed)
set -euo pipefail
BUILD_DIR=$(cd "${1:?usage: python_package_test.sh BUILD_DIR}" && pwd)
SOURCE=$(cd "$(dirname "$0")/../.." && pwd)
PYTHON=${PYTHON:-/usr/bin/python3}  # Debian's: its dist-packages hold grpcio and grpc_tools
unset PYTHONPATH

skip() {
  echo "SKIPPED: needs $1, which scripts/install-deps.sh installs"
  exit 77
}
"$PYTHON" -c 'import ensurepip, venv' 2>/dev/null || skip "python3-venv (ensurepip)"
"$PYTHON" -c 'import grpc_tools.protoc' 2>/dev/null || skip "python3-grpc-tools (grpc_tools)"
"$PYTHON" -c 'import grpc, google.protobuf' 2>/dev/null || skip "python3-grpcio, python3-protobuf"
"$PYTHON" -c 'import setuptools, wheel' 2>/dev/null || skip "python3-setuptools, python3-wheel"

TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
"$PYTHON" -m venv --system-site-packages "$TMP/venv"
# README's command; --isolated only keeps this machine's pip configuration (an index, extra
# wheel directories) out of the test.
(cd "$SOURCE" && "$TMP/venv/bin/pip" install --isolated --no-build-isolation --no-index \
  client/python)

cd "$TMP"  # outside the repository: only the installed package can be imported
"$TMP/venv/bin/python" - "$TMP/venv" <<'PY'
import os, sys
import ranker_client
from ranker_client._proto import ranker_pb2, ranker_pb2_grpc
for module in (ranker_client, ranker_pb2, ranker_pb2_grpc):
    assert os.path.realpath(module.__file__).startswith(os.path.realpath(sys.argv[1])), module
print("ranker_client imports from", os.path.dirname(ranker_client.__file__))
PY
"$TMP/venv/bin/python" "$SOURCE/tests/client/python_client_test.py" "$BUILD_DIR"
