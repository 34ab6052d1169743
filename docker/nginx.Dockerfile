# nginx from Debian's archive with the project's gRPC balancer configuration
# (deploy/nginx/nginx.conf): the one published gRPC port in front of the ranker replicas.
# Build from the repository root: docker build -f docker/nginx.Dockerfile -t memcom-ranker-nginx .
FROM debian:bookworm-slim
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends nginx \
 && rm -rf /var/lib/apt/lists/* \
 && mkdir -p /run/nginx/temp && chown -R www-data:www-data /run/nginx
COPY deploy/nginx/nginx.conf /etc/nginx/ranker.conf
USER www-data
EXPOSE 50051
CMD ["nginx", "-p", "/run/nginx", "-c", "/etc/nginx/ranker.conf", "-g", "daemon off;"]
