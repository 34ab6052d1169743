# NATS with JetStream from Debian's archive (no registry is reachable here): the event log of
# the fleet (docs/scale-out.md). File storage in the /data/jetstream volume; clients on 4222,
# monitoring on 8222. Build from the repository root:
#   docker build -f docker/nats.Dockerfile -t memcom-ranker-nats .
FROM debian:bookworm-slim
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends nats-server \
 && rm -rf /var/lib/apt/lists/* \
 && groupadd --system --gid 10002 jetstream \
 && useradd --system --uid 10002 --gid jetstream --home /data jetstream \
 && mkdir -p /data/jetstream && chown -R jetstream:jetstream /data
# A user of our own with a fixed numeric id (the package's `nats` user gets whatever id is free),
# so that Kubernetes can check runAsNonRoot and runAsUser: 10002 (deploy/kubernetes/nats.yaml).
USER 10002
VOLUME ["/data/jetstream"]
EXPOSE 4222 8222
ENTRYPOINT ["/usr/sbin/nats-server"]
CMD ["--jetstream", "--store_dir=/data/jetstream", "--http_port=8222"]
