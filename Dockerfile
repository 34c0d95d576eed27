# syntax=docker/dockerfile:1
# Production image: slim, multi-stage, non-root. Entrypoint runs `gateway migrate` then `gateway serve`.
# (Docker images cannot be pulled on the development machines; this file is kept correct by review.)

FROM python:3.11-slim AS build
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_CACHE_DIR=1
WORKDIR /src
COPY pyproject.toml README.md ./
COPY src ./src
COPY migrations ./migrations
RUN python -m venv /opt/gateway \
 && /opt/gateway/bin/pip install --upgrade pip \
 && /opt/gateway/bin/pip install .

FROM python:3.11-slim AS runtime
ENV PATH=/opt/gateway/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    GATEWAY_ENVIRONMENT=production \
    GATEWAY_HOST=0.0.0.0 \
    GATEWAY_PORT=8000 \
    GATEWAY_DATA_DIR=/var/lib/gateway
RUN groupadd --system gateway \
 && useradd --system --gid gateway --home-dir /var/lib/gateway --shell /usr/sbin/nologin gateway \
 && install -d -o gateway -g gateway -m 0700 /var/lib/gateway
COPY --from=build /opt/gateway /opt/gateway
USER gateway
WORKDIR /var/lib/gateway
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=3s --start-period=20s --retries=3 \
  CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen(f'http://127.0.0.1:{os.environ[\"GATEWAY_PORT\"]}/healthz', timeout=2)"]
ENTRYPOINT ["/bin/sh", "-c", "gateway migrate && exec gateway serve"]
