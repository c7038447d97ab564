"""The usage rollup (PostgreSQL, migration 0008) answers exactly what raw rows answer: through the API
against the Python reference (both profiles; SQLite reads raw rows), and statement against statement on
PostgreSQL for every metric, with range ends inside an hour, filters, and after replays and retention."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
import sqlalchemy as sa

from tests.integration.test_usage_numeric import (
    DAYS,
    METRICS,
    START,
    _key,
    _same,
    ask,
    dataset,  # noqa: F401 - the module's fixture: its own workspace and rows
    reference,
)
from vmx_app.audit.stores import store_for_settings
from vmx_app.db import dispose_engines, get_engine
from vmx_app.gateway.audit import AuditRecord
from vmx_app.services import usage_rollup
from vmx_app.services.audit_reads import fetch_all
from vmx_app.services.audit_retention import purge_environment
from vmx_app.services.usage_query import METRICS as ALL_METRICS
from vmx_app.services.usage_query import UsageQuery, build_statement

AGGS = ("sum", "avg", "min", "max")



CASES = [(unit, tz, dims, aligned) for unit in ("hour", "day", "week", "month", None)
         for tz in ("UTC", "America/New_York", "Asia/Kolkata")
         for dims in ([], ["resourceId"], ["model", "provider"]) for aligned in (True, False)
         if not (unit is None and tz != "UTC")]


def _range(aligned: bool) -> tuple[datetime, datetime]:
    if aligned:
        return START + timedelta(hours=5), START + timedelta(days=DAYS - 1, hours=5)
    start = START + timedelta(hours=3, minutes=17, seconds=11)
    return start, start + timedelta(days=DAYS - 1, minutes=29)


def _body(unit: str | None, tz: str, dims: list[str], start: datetime, end: datetime,
          metrics: Any = METRICS, fields: dict[str, Any] | None = None) -> dict[str, Any]:
    aggs = {m: [a for a in AGGS if usage_rollup.supported(m, a)] for m in metrics}
    return {"granularity": unit, "timeZone": tz, "dimensions": dims, "agg": {m: a for m, a in aggs.items() if a},
            "filter": {"dateRange": {"start": start.isoformat(), "end": end.isoformat()}, "fields": fields or {}}}


@pytest.mark.parametrize(("unit", "tz", "dims", "aligned"), CASES,
                         ids=[f"{u}-{t}-{'+'.join(d) or 'total'}-{'hours' if a else 'inside'}" for u, t, d, a in CASES])
def test_sum_avg_min_max_match_the_reference(admin_client: httpx.Client, dataset: Any, unit: str | None,  # noqa: F811
                                             tz: str, dims: list[str], aligned: bool) -> None:
    ws, env, records = dataset
    start, end = _range(aligned)
    body = _body(unit, tz, dims, start, end)
    # The rollup answers every case except Asia/Kolkata's half-hour buckets (raw rows there).
    assert usage_rollup.answerable(UsageQuery.model_validate(body), start, end) == (tz != "Asia/Kolkata")
    got = {_key(item, dims) if unit else tuple(str(item[d]) for d in dims): item
           for item in ask(admin_client, ws, env, body)}
    want = {_key(item, dims) if unit else tuple(str(item[d]) for d in dims): item
            for item in reference(records, unit, tz, dims, start, end)}
    assert set(got) == set(want)
    bad = [(k, field, got[k][field], v) for k, item in want.items() for field, v in item.items()
           if field in got[k] and field not in ("time", *dims) and not _same(got[k][field], v)]
    assert not bad, bad[:5]


def test_what_the_rollup_lacks_reads_raw_rows() -> None:
    start, end = _range(True)
    for change in ({"dimensions": ["statusCode"]}, {"agg": {"requestDuration": "p95"}},
                   {"agg": {"promptTokens": "max"}}, {"granularity": "minute"},
                   {"filter": {"fields": {"statusCode": {"value": 500}}}}):
        body = {"granularity": "day", "agg": {"requestCount": "sum"}} | change
        assert not usage_rollup.answerable(UsageQuery.model_validate(body), start, end), change


async def _both(ws: str, env: str, body: dict[str, Any]) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    query = UsageQuery.model_validate(body)
    start, end = query.range(datetime.now(UTC))
    args: dict[str, Any] = {"workspace_id": uuid.UUID(ws), "environment_id": uuid.UUID(env), "start": start,
                            "end": end, "max_groups": 100_000}
    assert usage_rollup.answerable(query, start, end)
    raw = [dict(r._mapping) for r in await fetch_all(build_statement(query, sqlite=False, **args))]
    rolled = [dict(r._mapping) for r in await fetch_all(usage_rollup.build_rollup_statement(query, **args))]
    order = sorted(k for k in body["dimensions"] + ["time"] if body["granularity"] or k != "time")
    return (sorted(raw, key=lambda r: tuple(str(r[k]) for k in order)),
            sorted(rolled, key=lambda r: tuple(str(r[k]) for k in order)))


def _equal(raw: list[dict[str, Any]], rolled: list[dict[str, Any]]) -> None:
    assert len(raw) == len(rolled) > 0
    for a, b in zip(raw, rolled, strict=True):
        assert a.keys() == b.keys()
        for field, value in a.items():
            if isinstance(value, int | float) or hasattr(value, "as_integer_ratio"):
                assert _same(float(value), None if b[field] is None else float(b[field])), (field, a, b)
            else:
                assert value == b[field], (field, a, b)


@pytest.mark.production_only  # the rollup exists on PostgreSQL only; SQLite reads raw rows
@pytest.mark.parametrize("dims", [["resourceId"], ["provider", "model"], ["endpoint"], []])
async def test_every_metric_equals_the_raw_statement(dataset: Any, dims: list[str]) -> None:  # noqa: F811
    ws, env, _ = dataset
    start, end = _range(False)
    fields = {"model": {"operator": "in", "value": ["gpt-4o", "claude"]}} if "model" not in dims else None
    raw, rolled = await _both(ws, env, _body("day", "America/New_York", dims, start, end, ALL_METRICS, fields))
    _equal(raw, rolled)
    await dispose_engines()


def _record(ws: str, env: str, at: datetime, i: int) -> AuditRecord:
    return AuditRecord(request_id=f"roll-{i}", created_at=at, workspace_id=ws, environment_id=env,
                       endpoint="chat.completions", status_code=200 if i % 3 else 500, provider="openai",
                       model="gpt-4o", prompt_tokens=i, total_tokens=i, duration_ms=float(i),
                       cost={"total": i * 1e-6})


@pytest.mark.production_only
async def test_replays_and_retention_keep_the_rollup_exact(admin_client: httpx.Client) -> None:
    ws = (admin_client.post("/v1/workspace", json={"name": f"rollup-{uuid.uuid4().hex[:6]}"})).json()["id"]
    env = (admin_client.post(f"/v1/environment/{ws}", json={"name": "r"})).json()["id"]
    base = datetime(2026, 11, 20, tzinfo=UTC)
    store = store_for_settings()
    rows = [store.encode(_record(ws, env, base + timedelta(minutes=7 * i), i)) for i in range(200)]
    await store.write(rows)
    await store.write(rows[:120], idempotent=True)  # a spool replay of rows already stored: counted once
    body = _body("hour", "UTC", ["model"], base - timedelta(minutes=30), base + timedelta(days=2),
                 ALL_METRICS)
    raw, rolled = await _both(ws, env, body)
    _equal(raw, rolled)
    assert sum(r["requestCountSum"] for r in rolled) == 200
    # Retention: rows and rollup hours before the (hour-aligned) cutoff go together.
    await purge_environment(uuid.UUID(env), base + timedelta(hours=5, minutes=40))
    raw, rolled = await _both(ws, env, body)
    _equal(raw, rolled)
    assert sum(r["requestCountSum"] for r in rolled) == 200 - 43  # 7-minute steps: 43 rows before 05:00
    async with get_engine().connect() as conn:
        first = (await conn.execute(sa.text("SELECT min(hour) FROM request_audit_rollup WHERE environment_id = :e"),
                                    {"e": uuid.UUID(env)})).scalar()
    assert first == base + timedelta(hours=5)
    await store.close()
    await dispose_engines()
