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
grep -q 'docker/replica-entrypoint.sh' docker/Dockerfile || fail "the image lacks replica-entrypoint.sh"

# The compose fleet, as docker-compose resolves it: replicas that can be scaled (no host port
# of their own), the balancer as the one gRPC entry, the repository shared by the trainer and
# the replicas, and Prometheus finding replicas by DNS rather than one fixed target.
docker-compose -f deploy/docker-compose.yml config >"${TMPDIR:-/tmp}/ranker-compose.$$.yml"
trap 'rm -f "${TMPDIR:-/tmp}/ranker-compose.$$.yml"' EXIT
/usr/bin/python3 - "${TMPDIR:-/tmp}/ranker-compose.$$.yml" deploy/prometheus/prometheus.yml <<'EOF' ||
import sys, yaml
services = yaml.safe_load(open(sys.argv[1]))["services"]
problems = []
ranker, balancer, trainer = services["ranker"], services.get("balancer"), services["trainer"]
if ranker.get("ports"):
    problems.append("ranker publishes host ports: --scale ranker=3 would collide")
if "replica-entrypoint.sh" not in str(ranker.get("entrypoint")):
    problems.append("ranker does not run replica-entrypoint.sh (the pull loop)")
if not balancer or not any("50051" in str(p) for p in balancer.get("ports", [])):
    problems.append("no balancer publishing 50051")
def mounts(service):
    return {str(v.get("source") if isinstance(v, dict) else v).split(":")[0]: v
            for v in service.get("volumes", [])}
if "snapshot-repo" not in mounts(trainer) or "snapshot-repo" not in mounts(ranker):
    problems.append("trainer and ranker do not share the snapshot-repo volume")
if trainer.get("environment", {}).get("SNAPSHOT_REPO") != "/data/repo":
    problems.append("the trainer does not export (SNAPSHOT_REPO)")
jobs = yaml.safe_load(open(sys.argv[2]))["scrape_configs"]
ranker_job = [j for j in jobs if j["job_name"] == "ranker"]
if not ranker_job or not any("ranker" in c.get("names", []) for c in ranker_job[0].get("dns_sd_configs", [])):
    problems.append("Prometheus does not find the ranker replicas by DNS")
for problem in problems:
    print("FAIL:", problem, file=sys.stderr)
sys.exit(1 if problems else 0)
EOF
  fail "the compose fleet is inconsistent"
echo "Dockerfile, compose fleet, scripts/test.sh, .ci/run and README.md agree"
