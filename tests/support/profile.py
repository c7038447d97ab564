"""The storage profile a test run uses: embedded (SQLite) or production (fresh Postgres DB + Redis prefix)."""

from __future__ import annotations

import base64
import os
import secrets
import tempfile
from pathlib import Path

import psycopg2
import redis

PROFILE = os.environ.get("VMX_TEST_PROFILE", "embedded")
PG_ADMIN_DSN = os.environ.get("VMX_TEST_PG_DSN", "postgresql://postgres@127.0.0.1:5432/postgres")
REDIS_URL = os.environ.get("VMX_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
ADMIN_EMAIL = "admin@vmx.test"
ADMIN_PASSWORD = "Admin-password-1"


class ProfileError(RuntimeError):
    pass


def _pg(sql: str) -> None:
    try:
        conn = psycopg2.connect(PG_ADMIN_DSN, connect_timeout=5)
    except psycopg2.OperationalError as exc:
        raise ProfileError(f"PostgreSQL unreachable at {PG_ADMIN_DSN}: {exc}") from exc
    conn.autocommit = True
    with conn.cursor() as cur:
        cur.execute(sql)
    conn.close()


def configure() -> dict[str, str]:
    """Create this run's data dir (and database, Redis prefix) and export the environment."""
    run_id = secrets.token_hex(4)
    data_dir = Path(tempfile.mkdtemp(prefix=f"vmx-test-{run_id}-"))
    env = {
        "VMX_DATA_DIR": str(data_dir),
        "VMX_ADMIN_EMAIL": ADMIN_EMAIL,
        "VMX_ADMIN_PASSWORD": ADMIN_PASSWORD,
        "VMX_TEST_RUN_ID": run_id,
    }
    for var in ("DATABASE_URL", "DATABASE_RO_URL", "REDIS_URL", "OIDC_FEDERATED_ISSUER", "ENCRYPTION_PROVIDER"):
        os.environ.pop(var, None)
    if PROFILE == "production":
        db = f"vmx_test_{run_id}"
        _pg(f"CREATE DATABASE {db}")
        try:
            redis.Redis.from_url(REDIS_URL, socket_timeout=5).ping()
        except redis.RedisError as exc:
            raise ProfileError(f"Redis unreachable at {REDIS_URL}: {exc}") from exc
        env.update({
            "DATABASE_URL": f"postgresql+asyncpg://postgres@127.0.0.1:5432/{db}",
            "REDIS_URL": REDIS_URL,
            "REDIS_KEY_PREFIX": f"vmx-test-{run_id}:",
            "LIBSODIUM_ENCRYPTION_KEY": base64.b64encode(secrets.token_bytes(32)).decode(),
        })
    elif PROFILE != "embedded":
        raise ProfileError(f"unknown VMX_TEST_PROFILE {PROFILE!r}")
    os.environ.update(env)
    return env


def teardown(env: dict[str, str]) -> None:
    if PROFILE == "production":
        run_id = env["VMX_TEST_RUN_ID"]
        _pg(f"DROP DATABASE IF EXISTS vmx_test_{run_id} WITH (FORCE)")
        client = redis.Redis.from_url(REDIS_URL)
        for key in client.scan_iter(match=f"vmx-test-{run_id}:*", count=1000):
            client.delete(key)
