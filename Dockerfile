# One container: console + gateway on port 3000 (`vmx run`), embedded profile (SQLite under /data) unless
# DATABASE_URL / REDIS_URL are set. Gateway-only pods run `vmx gateway` from the same image.
FROM python:3.11-slim-bookworm

# Node + npm install bun (Reflex builds the console with it); curl serves the HEALTHCHECK.
RUN apt-get update \
    && apt-get install -y --no-install-recommends nodejs=18.* npm=9.* unzip=6.* curl=7.* \
    && rm -rf /var/lib/apt/lists/*

# A non-root user owns the app (the console build writes .web) and the data volume.
RUN groupadd --system --gid 10001 vmx \
    && useradd --system --uid 10001 --gid vmx --home-dir /app --shell /usr/sbin/nologin vmx \
    && mkdir -p /app /data \
    && chown vmx:vmx /app /data
WORKDIR /app
USER 10001:10001

COPY --chown=10001:10001 pyproject.toml README.md rxconfig.py alembic.ini reflex.lock ./
COPY --chown=10001:10001 alembic ./alembic
COPY --chown=10001:10001 vmx_app ./vmx_app
COPY --chown=10001:10001 scripts ./scripts
# The same install script as the README's first command (scripts/start.sh), without the test extras.
RUN VMX_SETUP_EXTRAS='' bash scripts/setup.sh

ENV PATH="/app/.tools/node_modules/.bin:/app/.venv/bin:$PATH" \
    VMX_DATA_DIR=/data \
    REFLEX_TELEMETRY_ENABLED=false \
    PYTHONUNBUFFERED=1
VOLUME ["/data"]
EXPOSE 3000
# Liveness only: /healthz answers without touching the database.
HEALTHCHECK --interval=30s --timeout=3s --start-period=120s CMD ["curl", "-fsS", "http://127.0.0.1:3000/healthz"]
STOPSIGNAL SIGTERM
CMD ["vmx", "run", "--port", "3000"]
