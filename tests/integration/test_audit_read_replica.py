"""The audit viewer and the usage API read from DATABASE_RO_URL when it is set (a replica), never from
the primary: a row only the replica holds is found, one only the primary holds is not."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa

from vmx_app.audit.stores import SQLiteAuditStore, store_for_settings
from vmx_app.db import dispose_engines
from vmx_app.gateway.audit import AuditRecord
from vmx_app.models import RequestAudit
from vmx_app.services import audit_log
from vmx_app.services.audit_log import AuditFilters
from vmx_app.services.audit_reads import dispose_sync_engines
from vmx_app.services.usage import query_usage
from vmx_app.services.usage_query import UsageQuery
from vmx_app.settings import reset_settings

WS, ENV = uuid.uuid4(), uuid.uuid4()
NOW = datetime(2026, 11, 30, 12, tzinfo=UTC)


def _record(request_id: str) -> AuditRecord:
    return AuditRecord(request_id=request_id, created_at=NOW - timedelta(minutes=5), workspace_id=str(WS),
                       environment_id=str(ENV), endpoint="chat.completions", status_code=200)


@pytest.fixture
async def replica(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[Path]:
    path = tmp_path / "replica.db"
    engine = sa.create_engine(f"sqlite:///{path}")
    RequestAudit.__table__.create(engine)  # type: ignore[attr-defined]
    engine.dispose()
    store = store_for_settings()  # the primary, before the replica is configured
    # On the session's event loop, where the process-wide engine lives (asyncpg binds to one loop).
    await _write(store, _record("on-primary"))
    await _write(SQLiteAuditStore(path), _record("on-replica"))
    monkeypatch.setenv("DATABASE_RO_URL", f"sqlite+aiosqlite:///{path}")
    reset_settings()
    yield path
    monkeypatch.delenv("DATABASE_RO_URL")
    reset_settings()
    dispose_sync_engines()


async def _write(store: object, record: AuditRecord) -> None:
    await store.write([store.encode(record)])  # type: ignore[attr-defined]
    await store.close()  # type: ignore[attr-defined]
    await dispose_engines()


async def test_reads_go_to_the_replica(replica: Path) -> None:
    listed = await audit_log.list_rows(WS, ENV, AuditFilters())
    assert [r["requestId"] for r in listed["data"]] == ["on-replica"]
    usage = await query_usage(UsageQuery.model_validate({"granularity": None}), workspace_id=WS,
                              environment_id=ENV, now=NOW)
    assert usage["data"] == [{"requestCount": 1}]
