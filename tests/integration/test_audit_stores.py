"""The audit writer's bulk stores (executemany on SQLite, COPY on Postgres) write rows the ORM reads
back field for field, on this run's database."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime, timedelta, timezone

from sqlmodel import select

from vmx_app.audit.stores import PostgresAuditStore, SQLiteAuditStore, store_for_settings
from vmx_app.audit.writer import AuditWriter
from vmx_app.db import dispose_engines, session_scope
from vmx_app.gateway.audit import AuditRecord
from vmx_app.models import RequestAudit
from vmx_app.settings import get_settings


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


async def test_a_failing_batch_writes_nothing() -> None:
    tag = uuid.uuid4().hex[:8]
    writer = AuditWriter()
    bad = _record("x" * 500)  # longer than its column: Postgres refuses it
    good = _record(f"good-{tag}")
    if get_settings().database_url is None:
        bad = _record(f"bad-{tag}", workspace_id=None)  # NOT NULL column: SQLite refuses it
    writer.submit(good)
    writer.submit(bad)
    try:
        await writer.flush()
    except Exception:  # noqa: BLE001 - the whole batch failed, atomically
        pass
    else:
        raise AssertionError("the invalid row was accepted")
    assert await _read([good.request_id]) == {}  # nothing half-written
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
