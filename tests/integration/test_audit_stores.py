"""The audit writer's bulk stores (executemany on SQLite, COPY on Postgres) write rows the ORM reads
back field for field, on this run's database."""

from __future__ import annotations

import asyncio
import os
import uuid
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import httpx
import pytest
import sqlalchemy as sa
from sqlmodel import select

from tests.fakes.upstream import FakeUpstream
from tests.sdk.env import make_env
from tests.support.servers import free_port, gateway_command, running
from vmx_app.audit.stores import PostgresAuditStore, SQLiteAuditStore, store_for_settings
from vmx_app.audit.writer import AuditWriter
from vmx_app.db import dispose_engines, session_scope
from vmx_app.gateway.audit import AuditRecord
from vmx_app.models import RequestAudit
from vmx_app.settings import get_settings


def audit_rows(request_ids: list[str]) -> set[str]:
    """The request ids among these that have a request_audit row (read through a fresh connection)."""
    engine = sa.create_engine(get_settings().sync_database_url)
    try:
        with engine.connect() as conn:
            rows = conn.execute(sa.text("SELECT request_id FROM request_audit WHERE request_id IN :ids")
                                .bindparams(sa.bindparam("ids", expanding=True)), {"ids": request_ids})
            return {r[0] for r in rows}
    finally:
        engine.dispose()


def _record(request_id: str, **extra: object) -> AuditRecord:
    base: dict[str, object] = {
        "request_id": request_id, "created_at": datetime.now(UTC), "workspace_id": str(uuid.uuid4()),
        "environment_id": str(uuid.uuid4()), "endpoint": "chat.completions", "status_code": 200}
    return AuditRecord(**(base | extra))  # type: ignore[arg-type]


async def _read(request_ids: list[str]) -> dict[str, RequestAudit]:
    async with session_scope(readonly=True) as session:
        rows = (await session.exec(select(RequestAudit).where(RequestAudit.request_id.in_(request_ids)))).all()  # type: ignore[attr-defined]
    return {r.request_id: r for r in rows}


async def test_the_store_matches_the_profile() -> None:
    store = store_for_settings()
    expected = SQLiteAuditStore if get_settings().database_url is None else PostgresAuditStore
    assert isinstance(store, expected)
    await store.close()


async def test_every_field_round_trips() -> None:
    tag = uuid.uuid4().hex[:8]
    local = datetime(2026, 3, 4, 5, 6, 7, 890123, tzinfo=timezone(timedelta(hours=2)))
    full = _record(
        f"full-{tag}", created_at=local, stream=True, resource_id=str(uuid.uuid4()), resource_name="chat",
        connection_id=uuid.uuid4(), connection_name="oa", api_key_id=str(uuid.uuid4()), api_key_name="k",
        user_id=None, provider="openai", model="gpt-4o", error_type="api_error", error_message="boom ü",
        correlation_id="corr", source_ip="10.0.0.1", request_metadata={"team": "ä", "n": 1},
        events=[{"type": "fallback", "statusCode": 500}], prompt_tokens=3, completion_tokens=4, cached_tokens=1,
        reasoning_tokens=2, total_tokens=7, duration_ms=12.5, provider_duration_ms=10.25, gate_duration_ms=0.5,
        routing_duration_ms=0.125, time_to_first_token_ms=3.0, tokens_per_second=400.0,
        cost={"total": 0.0001, "currency": "USD"}, request_payload={"model": "chat", "messages": []},
        response_payload={"id": "x"})
    bare = _record(f"bare-{tag}")
    writer = AuditWriter(batch_size=1)  # two batches: the store is reused between them
    writer.submit(full)
    writer.submit(bare)
    assert await writer.flush() == 2
    await writer.stop()

    rows = await _read([full.request_id, bare.request_id])
    got = rows[full.request_id]
    assert got.created_at == local.astimezone(UTC) and got.created_at.tzinfo is not None
    assert got.stream is True and got.status_code == 200
    assert str(got.resource_id) == full.resource_id and got.connection_id == full.connection_id
    assert got.user_id is None and got.request_metadata == {"team": "ä", "n": 1}
    assert got.events == [{"type": "fallback", "statusCode": 500}] and got.cost == {"total": 0.0001, "currency": "USD"}
    assert (got.prompt_tokens, got.completion_tokens, got.cached_tokens, got.reasoning_tokens, got.total_tokens) == \
        (3, 4, 1, 2, 7)
    assert (got.duration_ms, got.provider_duration_ms, got.routing_duration_ms) == (12.5, 10.25, 0.125)
    assert got.request_payload == {"model": "chat", "messages": []} and got.error_message == "boom ü"
    empty = rows[bare.request_id]
    assert empty.stream is False and empty.events == [] and empty.cost is None and empty.request_payload is None
    await dispose_engines()


async def test_a_failing_batch_writes_nothing_and_a_flush_keeps_the_good_rows() -> None:
    tag = uuid.uuid4().hex[:8]
    good, also_good = _record(f"good-{tag}"), _record(f"good2-{tag}")
    bad = _record("x" * 500)  # longer than its column: Postgres refuses it
    if get_settings().database_url is None:
        bad = _record(f"bad-{tag}", workspace_id=None)  # NOT NULL column: SQLite refuses it
    store = store_for_settings()
    with pytest.raises(Exception):  # noqa: B017 - each driver raises its own error type
        await store.write([store.encode(good), store.encode(bad)])
    assert await _read([good.request_id]) == {}  # a batch is atomic: nothing half-written
    await store.close()

    writer = AuditWriter()
    for record in (good, bad, also_good):
        writer.submit(record)
    assert await writer.flush() == 2 and writer.dropped == 1  # the poison row alone is dropped
    assert set(await _read([good.request_id, also_good.request_id])) == {good.request_id, also_good.request_id}
    await writer.stop()
    await dispose_engines()


async def test_the_background_writer_drops_only_poison_rows_and_keeps_the_rest() -> None:
    tag = uuid.uuid4().hex[:8]
    writer = AuditWriter(flush_interval_s=0.05)
    writer.start()
    good = [_record(f"ok{i}-{tag}") for i in range(3)]
    poison = _record("x" * 500) if get_settings().database_url is not None else _record(f"p-{tag}", workspace_id=None)
    for record in (good[0], poison, good[1], good[2]):
        writer.submit(record)
    for _ in range(100):
        if len(await _read([r.request_id for r in good])) == 3:
            break
        await asyncio.sleep(0.05)
    assert set(await _read([r.request_id for r in good])) == {r.request_id for r in good}
    assert writer.dropped == 1
    await writer.stop()
    await dispose_engines()


def test_sigterm_writes_every_queued_row(tmp_path: Path, admin_client: httpx.Client, app_url: str,
                                         fake_upstream: FakeUpstream) -> None:
    """With a flush interval far longer than the test, only the shutdown flush can write these rows."""
    env = make_env(app_url, admin_client, fake_upstream, "sigterm")
    env.resource(env.slot("openai"), name="flushed")
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    proc_env = dict(os.environ, VMX_AUDIT_FLUSH_INTERVAL_SECONDS="120")
    ids = []
    with running(gateway_command(port), ready_url=f"{url}/readyz", env=proc_env, log=tmp_path / "gw.log"), \
            httpx.Client(base_url=f"{url}/v1/completion/{env.ws}/{env.env}", headers=env.headers()) as http:
        for i in range(20):
            body = {"model": "flushed", "messages": [{"role": "user", "content": f"message {i}"}]}
            r = http.post("/chat/completions", json=body)
            assert r.status_code == 200, r.text
            ids.append(r.headers["x-vmx-request-id"])
        assert audit_rows(ids) == set()  # still queued: nothing written before the stop
    assert audit_rows(ids) == set(ids)  # SIGTERM: every queued row was written on the way out
