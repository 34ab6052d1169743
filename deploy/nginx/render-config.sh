#!/usr/bin/env bash
# Prints deploy/nginx/nginx.conf for replicas at fixed addresses (hosts without compose's DNS):
# the listen line and the upstream servers are replaced, nothing else.
# Usage: deploy/nginx/render-config.sh LISTEN REPLICA_ADDRESS... > ranker-nginx.conf
#   e.g. render-config.sh 0.0.0.0:50051 10.0.0.1:50051 10.0.0.2:50051 10.0.0.3:50051
# Then: mkdir -p DIR/temp && nginx -p DIR -c "$PWD/ranker-nginx.conf"
set -euo pipefail
if [ $# -lt 2 ]; then
  echo "usage: $0 LISTEN REPLICA_ADDRESS..." >&2
  exit 2
fi
listen=$1
shift
servers=""
for replica in "$@"; do
  servers+="    server $replica max_fails=1 fail_timeout=2s;\\n"
done
config="$(dirname "$0")/nginx.conf"
rendered=$(sed -e "s|^ *server ranker:50051 .*# REPLICAS\$|${servers%\\n}|" \
  -e "s|^\( *\)listen 50051 http2;  # LISTEN\$|\1listen $listen http2;|" "$config")
# The lines to replace are matched exactly; if nginx.conf changed them, say so rather than
# printing a configuration that still points at `ranker:50051`.
if grep -q 'ranker:50051' <<<"$rendered" || ! grep -q "listen $listen http2;" <<<"$rendered"; then
  echo "$config: its '# REPLICAS' or '# LISTEN' line no longer matches $0" >&2
  exit 1
fi
printf '%s\n' "$rendered"
