#!/usr/bin/env bash
# Sets everything up on a fresh Debian 12 machine and runs the service on a demo model:
# installs dependencies, builds, creates var/store with a synthetic history model (users are
# pooled from the items they saw: MEmCom input and output item tables, 10,000 items, d=32, 16x
# compression) and stored demo histories for 100,000 users, unless a store is already there,
# and starts ranker-server on it (gRPC on localhost:50051, admin on 127.0.0.1:50052). Ctrl-C
# stops it.
# Extra arguments go to ranker-server.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
scripts/build.sh
STORE=${STORE:-var/store}
if ! build/model_store/ranker-store list --store "$STORE" >/dev/null 2>&1; then
  build/model_store/ranker-store demo --store "$STORE" --user_mode history --users 100000 \
    --items 10000 --d 32 --kind memcom --ratio 16 --hidden 64,32
fi
build/model_store/ranker-store list --store "$STORE"
echo "starting ranker-server; try: build/client/ranker-client rank --user 42 --k 10"
echo "  (user 42's stored history: build/model_store/ranker-store history show 42 --store $STORE)"
echo "  or with a history of your own: build/client/ranker-client rank --history 5,17,99 --k 10"
exec build/server/ranker-server --store "$STORE" "$@"
