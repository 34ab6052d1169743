#!/usr/bin/env bash
# deploy/kubernetes/*.yaml must validate against the Kubernetes API schema (offline: validate.mjs
# with the npm packages pinned in package-lock.json, installed under BUILD_DIR), and the
# validator must refuse broken copies of them: a misspelt field, a wrong type, a missing
# required field, a kind that does not exist.
# Usage: kubernetes_manifests_test.sh BUILD_DIR
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
SOURCE=$(cd "$HERE/../.." && pwd)
TOOL=$(mkdir -p "${1:?usage: kubernetes_manifests_test.sh BUILD_DIR}/kubernetes-validator" && cd "$1/kubernetes-validator" && pwd)
fail() { echo "FAIL: $*" >&2; exit 1; }

# Reinstall only when the pinned versions change.
if ! cmp -s "$HERE/package-lock.json" "$TOOL/package-lock.json" || [ ! -d "$TOOL/node_modules" ]; then
  cp "$HERE/package.json" "$HERE/package-lock.json" "$TOOL/"
  (cd "$TOOL" && npm ci --no-audit --no-fund --ignore-scripts --loglevel=error) ||
    fail "npm ci could not install the validator's packages (is the npm registry reachable?)"
fi
cp "$HERE/validate.mjs" "$TOOL/validate.mjs"
validate() { node "$TOOL/validate.mjs" "$@"; }

echo "== deploy/kubernetes"
validate "$SOURCE"/deploy/kubernetes/*.yaml || fail "the manifests do not validate"

WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
refused() {  # refused NAME EXPECTED_TEXT: the broken copy must fail, naming the problem
  local output
  if output=$(validate "$WORK/$1.yaml"); then fail "$1: the validator accepted it"; fi
  grep -q -- "$2" <<<"$output" || fail "$1: expected '$2' in: $output"
  echo "   refused $1: $(grep -m1 -- "$2" <<<"$output")"
}
echo "== broken copies are refused"
sed 's/^  revisionHistoryLimit: 3$/  revisionHistoryLimt: 3/' "$SOURCE/deploy/kubernetes/deployment.yaml" \
  >"$WORK/typo.yaml"
refused typo "revisionHistoryLimt: not a field of V1DeploymentSpec"
sed 's/            allowPrivilegeEscalation: false/            allowPrivilegeEscalatoin: false/' \
  "$SOURCE/deploy/kubernetes/deployment.yaml" >"$WORK/deep-typo.yaml"
refused deep-typo "allowPrivilegeEscalatoin: not a field of V1SecurityContext"
sed 's/containerPort: 50051/containerPort: grpc-port/' "$SOURCE/deploy/kubernetes/deployment.yaml" \
  >"$WORK/wrong-type.yaml"
refused wrong-type "containerPort must be integer"
sed '/^  scaleTargetRef:$/,/^    name: ranker$/d' "$SOURCE/deploy/kubernetes/hpa.yaml" \
  >"$WORK/missing.yaml"
refused missing "must have required property scaleTargetRef"
sed 's/^kind: Service$/kind: Servise/' "$SOURCE/deploy/kubernetes/service.yaml" >"$WORK/kind.yaml"
refused kind "is not a Kubernetes API type"
echo "PASS"
