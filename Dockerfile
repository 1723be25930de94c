# ingestd: one image for the embedded (SQLite) and the shared (PostgreSQL) setups.
#   docker build -t ingestd .
#   docker run -p 9095:9095 -e INGESTD_AUTH=none ingestd
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /app
COPY pyproject.toml README.md ./
COPY ingestd ./ingestd
RUN pip install .

# The example configuration; mount your own over /etc/ingestd (a ConfigMap in Kubernetes).
COPY cmdb.yaml /etc/ingestd/cmdb.yaml
COPY rules /etc/ingestd/rules

RUN useradd --system --uid 10001 --home-dir /var/lib/ingestd --create-home ingestd
USER 10001
WORKDIR /var/lib/ingestd

ENV INGESTD_CMDB=/etc/ingestd/cmdb.yaml \
    INGESTD_RULES=/etc/ingestd/rules \
    INGESTD_DB=sqlite:////var/lib/ingestd/ingestd.db \
    INGESTD_LOG_FORMAT=json

EXPOSE 9095
# slim has no curl: ask /healthz with Python's own urllib.
HEALTHCHECK --interval=10s --timeout=3s --start-period=20s --retries=3 \
    CMD ["python", "-c", "import urllib.request, sys; sys.exit(0 if urllib.request.urlopen('http://127.0.0.1:9095/healthz', timeout=2).status == 200 else 1)"]

# SIGTERM drains (intake answers 503, accepted work is committed), then exits 0.
STOPSIGNAL SIGTERM
ENTRYPOINT ["ingestd"]
CMD ["serve", "--listen", "0.0.0.0:9095"]
