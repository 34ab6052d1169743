#!/usr/bin/env bash
# The C++ backend example (client/cpp_example/rank_example.cc) builds against the installed
# SDK alone (`cmake --install BUILD --component sdk`: headers, libranker_proto.a, the .proto)
# and ranks through a real server.  Usage: cpp_sdk_test.sh BUILD_DIR
set -euo pipefail
SOURCE=$(cd "$(dirname "$0")/../.." && pwd)
BUILD=$(cd "${1:?usage: cpp_sdk_test.sh BUILD_DIR}" && pwd)
WORK=$(mktemp -d)
server=""
trap '[ -n "$server" ] && kill "$server" 2>/dev/null; rm -rf "$WORK"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

cmake --install "$BUILD" --component sdk --prefix "$WORK/sdk" >/dev/null
for file in include/proto/ranker.pb.h include/proto/ranker.grpc.pb.h lib/libranker_proto.a \
            share/ranker/ranker.proto; do
  [ -f "$WORK/sdk/$file" ] || fail "the SDK lacks $file"
done
# A library built with sanitizers needs its users compiled the same way: take the build's flags.
build_flags=$(sed -n 's/^CMAKE_CXX_FLAGS:STRING=//p' "$BUILD/CMakeCache.txt")
# shellcheck disable=SC2046,SC2086
g++ -std=c++17 $build_flags "$SOURCE/client/cpp_example/rank_example.cc" -I"$WORK/sdk/include" \
  "$WORK/sdk/lib/libranker_proto.a" $(pkg-config --cflags --libs grpc++ protobuf) \
  -o "$WORK/rank_example" || fail "the example does not build against the installed SDK"

"$BUILD/model_store/ranker-store" demo --store "$WORK/store" --users 100 --items 100 >/dev/null
"$BUILD/server/ranker-server" --store "$WORK/store" --listen 127.0.0.1:0 --metrics_listen "" \
  --admin_listen "" >"$WORK/server.out" 2>/dev/null &
server=$!
for _ in $(seq 100); do grep -q "^listening on" "$WORK/server.out" && break; sleep 0.1; done
target=$(sed -n 's/^listening on //p' "$WORK/server.out")
[ -n "$target" ] || fail "the server did not start"
output=$("$WORK/rank_example" "$target" 7) || fail "the example's Rank failed: $output"
echo "$output"
grep -q "^model version 1$" <<<"$output" || fail "no model version in the output"
[ "$(grep -c '^item ' <<<"$output")" = 5 ] || fail "expected 5 items"
echo "PASS"
