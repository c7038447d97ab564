# One container: console + gateway on port 3000, embedded profile unless DATABASE_URL/REDIS_URL are set.
FROM python:3.11-slim
RUN apt-get update && apt-get install -y --no-install-recommends nodejs npm unzip curl \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY pyproject.toml README.md rxconfig.py alembic.ini ./
COPY alembic ./alembic
COPY reflex.lock ./reflex.lock
COPY vmx_app ./vmx_app
COPY scripts ./scripts
RUN VMX_SETUP_EXTRAS= bash scripts/setup.sh
ENV PATH="/app/.tools/node_modules/.bin:/app/.venv/bin:$PATH" \
    VMX_DATA_DIR=/data REFLEX_TELEMETRY_ENABLED=false
VOLUME /data
EXPOSE 3000
HEALTHCHECK CMD curl -fs http://127.0.0.1:3000/healthz || exit 1
CMD ["vmx", "run", "--port", "3000"]
