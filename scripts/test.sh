#!/usr/bin/env bash
# Command 2: the whole suite, against both storage profiles (embedded, then Postgres + Redis).
set -euo pipefail
cd "$(dirname "$0")/.."
VMX_SETUP_BROWSER=1 bash scripts/setup.sh
export PATH="$PWD/.tools/node_modules/.bin:$PATH" REFLEX_TELEMETRY_ENABLED=false

# Production profile needs real servers: start them when down, fail (never skip) when unreachable.
if ! pg_isready -q -h 127.0.0.1 -p 5432; then
  pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql)" main start || true
  for _ in $(seq 1 30); do pg_isready -q -h 127.0.0.1 -p 5432 && break; sleep 1; done
fi
if ! redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null 2>&1; then
  redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save "" --appendonly no || true
  for _ in $(seq 1 30); do redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null 2>&1 && break; sleep 1; done
fi
pg_isready -q -h 127.0.0.1 -p 5432 || { echo "test: PostgreSQL on 127.0.0.1:5432 is unreachable" >&2; exit 1; }
redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null 2>&1 || { echo "test: Redis on 127.0.0.1:6379 is unreachable" >&2; exit 1; }

.venv/bin/ruff check --quiet .
status=0
echo "=== embedded profile (SQLite, in-process counters) ==="
VMX_TEST_PROFILE=embedded .venv/bin/pytest -q "$@" || status=$?
echo "=== production profile (PostgreSQL, Redis) ==="
VMX_TEST_PROFILE=production .venv/bin/pytest -q "$@" || status=$?
exit $status
