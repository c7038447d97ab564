"""request_audit's monthly partitions on PostgreSQL, in a database of their own (whatever the profile:
dropping months must not touch the shared test database): made ahead, rows land in their month, a
month past every environment's retention is dropped whole, a younger one is kept; SQLite has none."""

from __future__ import annotations

import secrets
import subprocess
import sys
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime

import psycopg2
import pytest
from sqlalchemy.ext.asyncio import create_async_engine

from tests.support import profile
from tests.support.servers import ROOT
from vmx_app.services.audit_partitions import drop_expired_months, ensure_months
from vmx_app.settings import get_settings

NOW = datetime(2031, 1, 15, tzinfo=UTC)


@pytest.fixture
def database() -> Iterator[str]:
    name = f"vmx_partitions_{secrets.token_hex(4)}"
    profile._pg(f"CREATE DATABASE {name}")
    env = {"DATABASE_URL": f"postgresql+asyncpg://postgres@127.0.0.1:5432/{name}", "PATH": "/usr/bin:/bin"}
    try:
        subprocess.run([sys.executable, "-m", "vmx_app.cli", "migrate"], cwd=ROOT, env=env, check=True,
                       capture_output=True)
        yield name
    finally:
        profile._pg(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


def _sql(db: str, sql: str) -> list[tuple[object, ...]]:
    conn = psycopg2.connect(f"postgresql://postgres@127.0.0.1:5432/{db}")
    conn.autocommit = True
    with conn.cursor() as cur:
        cur.execute(sql)
        rows = cur.fetchall() if cur.description else []
    conn.close()
    return rows


def _partitions(db: str) -> set[str]:
    return {str(r[0]) for r in _sql(db, "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
                                        "WHERE i.inhparent = 'request_audit'::regclass")}


async def test_months_are_made_ahead_and_dropped_past_every_retention(database: str) -> None:
    engine = create_async_engine(f"postgresql+asyncpg://postgres@127.0.0.1:5432/{database}")
    try:
        assert await ensure_months(NOW, engine=engine) == ["request_audit_p203101", "request_audit_p203102",
                                                           "request_audit_p203103"]
        assert await ensure_months(NOW, engine=engine) == []  # idempotent
        ws, env = uuid.uuid4(), uuid.uuid4()
        _sql(database, f"INSERT INTO workspaces (id, name, created_at, updated_at) VALUES ('{ws}', 'w', now(), now())")
        _sql(database, "INSERT INTO environments (id, workspace_id, name, audit_store_payloads, audit_retention_days, "
                       f"created_at, updated_at) VALUES ('{env}', '{ws}', 'e', true, 30, now(), now())")
        _sql(database, "INSERT INTO request_audit (id, created_at, request_id, workspace_id, environment_id, endpoint, "
                       "stream, status_code, events, prompt_tokens, completion_tokens, cached_tokens, "
                       "reasoning_tokens, total_tokens, duration_ms) VALUES "
                       f"('{uuid.uuid4()}', '2031-01-20T00:00:00Z', 'r1', '{ws}', '{env}', 'x', false, 200, '[]', "
                       "0, 0, 0, 0, 0, 1)")
        assert _sql(database, "SELECT tableoid::regclass::text FROM request_audit") == [("request_audit_p203101",)]
        # 2031-03-05 minus 30 days = 2031-02-03: January (and the migration's month) has passed every
        # retention, February has not.
        expired = sorted(n for n in _partitions(database) - {"request_audit_default"} if n <= "request_audit_p203101")
        assert "request_audit_p203101" in expired
        assert await drop_expired_months(datetime(2031, 3, 5, tzinfo=UTC), engine=engine) == expired
        assert {"request_audit_p203102", "request_audit_p203103", "request_audit_default"} <= _partitions(database)
        assert "request_audit_p203101" not in _partitions(database)
        assert _sql(database, "SELECT count(*) FROM request_audit") == [(0,)]
    finally:
        await engine.dispose()


async def test_sqlite_has_no_partitions(tmp_path: object) -> None:
    engine = create_async_engine(f"sqlite+aiosqlite:///{get_settings().vmx_data_dir / 'partitions-probe.db'}")
    try:
        assert await ensure_months(NOW, engine=engine) == []
        assert await drop_expired_months(NOW, engine=engine) == []
    finally:
        await engine.dispose()
