"""The audit trail on the real database: rows cannot be updated (a trigger), retention deletes only the
expired rows of each environment, in batches, and a spooled outage replays through the real store."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
import sqlalchemy as sa

from tests.sdk.env import check
from vmx_app.audit.stores import store_for_settings
from vmx_app.audit.writer import AuditWriter
from vmx_app.db import dispose_engines
from vmx_app.gateway.audit import AuditRecord
from vmx_app.services.audit_retention import purge_expired
from vmx_app.settings import get_settings

NOW = datetime(2026, 12, 1, 12, tzinfo=UTC)


def _engine() -> sa.Engine:
    return sa.create_engine(get_settings().sync_database_url)


def _ids(env_id: str) -> set[str]:
    engine = _engine()
    with engine.connect() as conn:
        env_value: Any = uuid.UUID(env_id) if get_settings().database_url else uuid.UUID(env_id).hex
        rows = conn.execute(sa.text("SELECT request_id FROM request_audit WHERE environment_id = :e"),
                            {"e": env_value}).all()
    engine.dispose()
    return {r[0] for r in rows}


def _record(ws: str, env: str, request_id: str, at: datetime) -> AuditRecord:
    return AuditRecord(request_id=request_id, created_at=at, workspace_id=ws, environment_id=env,
                       endpoint="chat.completions", status_code=200)


async def _write(records: list[AuditRecord]) -> None:
    store = store_for_settings()
    await store.write([store.encode(r) for r in records])
    await store.close()


@pytest.fixture
def envs(admin_client: httpx.Client) -> tuple[str, str, str]:
    ws = check(admin_client.post("/v1/workspace", json={"name": f"retention-{uuid.uuid4().hex[:6]}"}))["id"]
    short = check(admin_client.post(f"/v1/environment/{ws}", json={"name": "short", "auditRetentionDays": 7}))["id"]
    long = check(admin_client.post(f"/v1/environment/{ws}", json={"name": "long", "auditRetentionDays": 30}))["id"]
    return ws, short, long


async def test_retention_deletes_only_expired_rows_of_each_environment(envs: tuple[str, str, str]) -> None:
    ws, short, long = envs
    ages = {"fresh": 1, "week": 8, "month": 31}  # days old
    records = [_record(ws, env, f"{name}-{label}-{i}", NOW - timedelta(days=days))
               for env, name in ((short, "s"), (long, "l")) for label, days in ages.items() for i in range(9)]
    await _write(records)
    purged = await purge_expired(NOW, batch_rows=4)
    assert _ids(short) == {f"s-fresh-{i}" for i in range(9)}
    assert _ids(long) == {f"{p}-{i}" for p in ("l-fresh", "l-week") for i in range(9)}
    assert (purged[short].rows, purged[short].batches) == (18, 5)  # batches of at most 4 rows
    assert (purged[long].rows, purged[long].batches) == (9, 3)
    await dispose_engines()


async def test_rows_cannot_be_updated(envs: tuple[str, str, str]) -> None:
    ws, short, _ = envs
    await _write([_record(ws, short, "immutable-1", NOW)])
    engine = _engine()
    with pytest.raises(sa.exc.DatabaseError, match="immutable"), engine.begin() as conn:
        conn.execute(sa.text("UPDATE request_audit SET status_code = 500 WHERE request_id = 'immutable-1'"))
    with engine.begin() as conn:  # deleting stays possible: retention needs it
        assert conn.execute(sa.text("DELETE FROM request_audit WHERE request_id = 'immutable-1'")).rowcount == 1
    engine.dispose()
    await dispose_engines()


class Outage:
    """The real store of this profile, unreachable while `down` is set."""

    def __init__(self) -> None:
        self.real = store_for_settings()
        self.down = True

    def encode(self, record: AuditRecord) -> tuple[Any, ...]:
        return self.real.encode(record)

    async def write(self, rows: list[tuple[Any, ...]], *, idempotent: bool = False) -> None:
        if self.down:
            raise ConnectionError("down")
        await self.real.write(rows, idempotent=idempotent)

    def revive(self, row: list[Any]) -> tuple[Any, ...]:
        return self.real.revive(row)

    async def ping(self) -> None:
        if self.down:
            raise ConnectionError("down")

    async def close(self) -> None:
        await self.real.close()


async def test_spooled_rows_replay_through_the_real_store_once(envs: tuple[str, str, str], tmp_path: Path) -> None:
    ws, short, _ = envs
    store = Outage()
    writer = AuditWriter(store=store, spool_dir=tmp_path, batch_size=5)  # type: ignore[arg-type]
    for i in range(12):
        writer.submit(_record(ws, short, f"spooled-{i}", NOW - timedelta(seconds=i)))
    assert await writer.flush() == 0 and writer.spool_bytes > 0
    store.down = False
    first = await store.real.write([store.real.revive(list(_first_spooled(writer)))], idempotent=True)
    assert first is None  # one row already in (a crash after commit, before the spool was cleared)
    assert await writer.replay() is True
    assert _ids(short) >= {f"spooled-{i}" for i in range(12)}
    engine = _engine()
    with engine.connect() as conn:
        count = conn.execute(sa.text("SELECT count(*) FROM request_audit WHERE request_id LIKE 'spooled-%'")).scalar()
    engine.dispose()
    assert count == 12
    await writer.stop()
    await dispose_engines()


def _first_spooled(writer: AuditWriter) -> list[Any]:
    spool = writer._spool
    assert spool is not None
    record = spool.read_at(0)
    assert record is not None
    return record[0][0]  # type: ignore[no-any-return]
