# The rlce server itself (not a sandbox): gRPC + /metrics, driving a Docker
# engine through its socket. Build from the repository root:
#   docker build -f deploy/server.Dockerfile -t rlce-server .
# BASE is the stock Debian image where a registry answers; without one, pass
# the locally imported base (--build-arg BASE=rlce-base:bookworm).
ARG BASE=debian:bookworm-slim
FROM ${BASE}
RUN apt-get update \
 && apt-get install -y --no-install-recommends python3 python3-venv ca-certificates \
 && rm -rf /var/lib/apt/lists/*
RUN python3 -m venv /opt/rlce
WORKDIR /src
COPY pyproject.toml README.md ./
COPY rlce_server ./rlce_server
COPY sandbox_images ./sandbox_images
# deploy/wheels/ (made on the host by deploy/wheelhouse.py) when present:
# then no network is needed here; otherwise straight from PyPI.
COPY deploy /src/deploy
RUN if ls /src/deploy/wheels/*.whl >/dev/null 2>&1; then \
      /opt/rlce/bin/pip install --no-cache-dir --no-index --find-links /src/deploy/wheels "rlce[server,redis]"; \
    else \
      /opt/rlce/bin/pip install --no-cache-dir "/src[server,redis]"; \
    fi \
 && rm -rf /src/deploy
ENV PATH=/opt/rlce/bin:$PATH \
    RLCE_IMAGES_DIR=/src/sandbox_images \
    RLCE_HOST=0.0.0.0
EXPOSE 50051 9464
# Builds any missing sandbox image on the engine it drives, then serves.
CMD ["sh", "-c", "rlce images build && exec rlce serve"]
