"""Numeric correctness of the usage API: thousands of generated rows, aggregated by the running app
(SQLite or PostgreSQL, per profile), equal a reference computed here in plain Python, for every
aggregation, granularity, several dimensions and time zones (one with a DST change in the range)."""

from __future__ import annotations

import math
import random
import statistics
import uuid
from collections import defaultdict
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest

from tests.sdk.env import check
from vmx_app.audit.stores import store_for_settings
from vmx_app.gateway.audit import AuditRecord

START = datetime(2026, 10, 28, tzinfo=UTC)  # New York leaves DST on 2026-11-01
DAYS = 8
ROWS = 3000
AGGS = ("sum", "avg", "min", "max", "p50", "p90", "p95", "p99")
METRICS = {  # API metric -> how the reference reads it from a record
    "requestCount": lambda r: 1,
    "errorCount": lambda r: int(r.status_code >= 400),
    "promptTokens": lambda r: r.prompt_tokens,
    "requestDuration": lambda r: r.duration_ms,
    "timeToFirstToken": lambda r: r.time_to_first_token_ms,
    "cost": lambda r: r.cost["total"] if r.cost else None,
}
DIM_FIELDS = {"resourceId": "resource_id", "model": "model", "statusCode": "status_code", "provider": "provider"}
ZONES = ("UTC", "Asia/Kolkata", "America/New_York")


def _generate(ws: str, env: str) -> list[AuditRecord]:
    rng = random.Random(11)
    resources = [str(uuid.uuid4()) for _ in range(3)]
    models = [("openai", "gpt-4o"), ("openai", "gpt-4o-mini"), ("anthropic", "claude")]
    out = []
    for i in range(ROWS):
        at = START + timedelta(seconds=rng.uniform(0, DAYS * 86400))
        provider, model = rng.choice(models)
        status = rng.choices([200, 429, 500], weights=[8, 1, 1])[0]
        prompt = rng.randint(1, 5000)
        out.append(AuditRecord(
            request_id=f"num-{i}", created_at=at, workspace_id=ws, environment_id=env, endpoint="chat.completions",
            status_code=status, resource_id=rng.choice(resources), provider=provider, model=model,
            prompt_tokens=prompt, completion_tokens=rng.randint(0, 900), total_tokens=prompt + 10,
            duration_ms=round(rng.lognormvariate(5, 1), 3),
            time_to_first_token_ms=round(rng.uniform(5, 400), 3) if rng.random() < 0.6 else None,
            cost={"total": round(prompt * 2.5e-6, 10), "input": 0.0, "output": 0.0} if status == 200 else None))
    return out


@pytest.fixture(scope="module")
async def dataset(admin_client: httpx.Client) -> tuple[str, str, list[AuditRecord]]:
    ws = check(admin_client.post("/v1/workspace", json={"name": f"usage-{uuid.uuid4().hex[:6]}"}))["id"]
    env = check(admin_client.post(f"/v1/environment/{ws}", json={"name": "numbers"}))["id"]
    records = _generate(ws, env)

    # On the session's event loop, where the process-wide engine lives (asyncpg binds to one loop).
    async def write() -> None:
        store = store_for_settings()
        await store.write([store.encode(r) for r in records])
        await store.close()

    await write()
    return ws, env, records


# ---- the reference ----------------------------------------------------------------------------------

def ref_bucket(at: datetime, unit: str, tz_name: str) -> datetime:
    local = at.astimezone(ZoneInfo(tz_name))
    if unit == "minute":
        return local.replace(second=0, microsecond=0).astimezone(UTC)
    if unit == "hour":
        return local.replace(minute=0, second=0, microsecond=0).astimezone(UTC)
    day = datetime(local.year, local.month, 1 if unit == "month" else local.day)
    if unit == "week":
        day -= timedelta(days=local.weekday())
    return day.replace(tzinfo=ZoneInfo(tz_name)).astimezone(UTC)  # these zones change at 2am, never midnight


def ref_aggregate(values: list[Any], agg: str) -> Any:
    present = [v for v in values if v is not None]
    if agg == "sum":
        return sum(present)
    if not present:
        return None
    if agg == "avg":
        return sum(present) / len(present)
    if agg in ("min", "max"):
        return min(present) if agg == "min" else max(present)
    if len(present) == 1:
        return float(present[0])
    return statistics.quantiles(present, n=100, method="inclusive")[int(agg[1:]) - 1]


def reference(records: list[AuditRecord], unit: str | None, tz: str, dims: list[str], start: datetime,
              end: datetime) -> list[dict[str, Any]]:
    groups: dict[tuple[Any, ...], list[AuditRecord]] = defaultdict(list)
    for r in records:
        if start <= r.created_at < end:
            key = tuple(getattr(r, DIM_FIELDS[d]) for d in dims)
            groups[((ref_bucket(r.created_at, unit, tz) if unit else None), *key)].append(r)
    if unit:  # every bucket of the range, for each dimension combination that has rows
        all_buckets = {ref_bucket(start + timedelta(minutes=m), unit, tz)
                       for m in range(int((end - start).total_seconds() // 60))}
        for combo in {k[1:] for k in groups} or {()}:
            for b in all_buckets:
                groups.setdefault((b, *combo), [])
    out = []
    for (bucket, *combo), rows in groups.items():
        item: dict[str, Any] = {"time": bucket, **dict(zip(dims, combo, strict=True))}
        for metric, read in METRICS.items():
            for agg in AGGS:
                item[metric + agg[0].upper() + agg[1:]] = ref_aggregate([read(r) for r in rows], agg)
        out.append(item)
    return out


# ---- comparison ---------------------------------------------------------------------------------------

def _same(a: Any, b: Any) -> bool:
    if a is None or b is None:
        return a is None and b is None
    return math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-9)


def _key(item: dict[str, Any], dims: list[str]) -> tuple[Any, ...]:
    when = item["time"]
    if isinstance(when, str):
        when = datetime.fromisoformat(when).astimezone(UTC)
    return (when, *(str(item[d]) for d in dims))


def ask(client: httpx.Client, ws: str, env: str, body: dict[str, Any]) -> list[dict[str, Any]]:
    r = client.post(f"/v1/completion-usage/{ws}/{env}", json=body)
    assert r.status_code == 200, r.text
    return r.json()["data"]  # type: ignore[no-any-return]


CASES = [(unit, tz, dims) for unit in ("minute", "hour", "day", "week", "month") for tz in ZONES
         for dims in ([], ["resourceId"], ["model", "statusCode"]) if not (unit == "minute" and dims)]


@pytest.mark.parametrize(("unit", "tz", "dims"), CASES, ids=[f"{u}-{t}-{'+'.join(d) or 'total'}" for u, t, d in CASES])
def test_every_aggregation_matches_the_reference(admin_client: httpx.Client, dataset: Any, unit: str, tz: str,
                                                 dims: list[str]) -> None:
    ws, env, records = dataset
    start = START + timedelta(hours=3, minutes=17)
    end = start + (timedelta(hours=5) if unit == "minute" else timedelta(days=DAYS - 1))
    body = {"granularity": unit, "timeZone": tz, "dimensions": dims, "agg": {m: list(AGGS) for m in METRICS},
            "filter": {"dateRange": {"start": start.isoformat(), "end": end.isoformat()}}}
    got = {_key(item, dims): item for item in ask(admin_client, ws, env, body)}
    want = {_key(item, dims): item for item in reference(records, unit, tz, dims, start, end)}
    assert set(got) == set(want)
    bad = [(k, field, got[k][field], v) for k, item in want.items() for field, v in item.items()
           if field not in ("time", *dims) and not _same(got[k][field], v)]
    assert not bad, bad[:5]
    times = [datetime.fromisoformat(i["time"]) for i in ask(admin_client, ws, env, body)]
    assert times == sorted(times) and all(t.utcoffset() == t.astimezone(ZoneInfo(tz)).utcoffset() for t in times)


def test_filters_order_and_limit_match_the_reference(admin_client: httpx.Client, dataset: Any) -> None:
    ws, env, records = dataset
    start, end = START, START + timedelta(days=DAYS)
    chosen = [r for r in records if r.provider == "openai" and r.status_code in (200, 429)]
    body = {"granularity": None, "dimensions": ["model"], "agg": {"cost": "sum", "requestCount": "sum"},
            "filter": {"dateRange": {"start": start.isoformat(), "end": end.isoformat()},
                       "fields": {"provider": {"operator": "eq", "value": "openai"},
                                  "statusCode": {"operator": "in", "value": [200, 429]}}},
            "orderBy": {"cost": "desc"}, "limit": 1}
    got = ask(admin_client, ws, env, body)
    per_model: dict[str, list[AuditRecord]] = defaultdict(list)
    for r in chosen:
        per_model[str(r.model)].append(r)
    top = max(per_model, key=lambda m: sum(METRICS["cost"](r) or 0 for r in per_model[m]))
    assert [g["model"] for g in got] == [top]
    assert got[0]["requestCount"] == len(per_model[top])
    assert _same(got[0]["cost"], sum(METRICS["cost"](r) or 0 for r in per_model[top]))


def test_bad_queries_are_refused(admin_client: httpx.Client, dataset: Any) -> None:
    ws, env, _ = dataset
    url = f"/v1/completion-usage/{ws}/{env}"
    for body, field in (({"agg": {"nope": "sum"}}, "agg.nope"), ({"timeZone": "Mars/Base"}, "timeZone"),
                        ({"dimensions": ["secret"]}, "dimensions"),
                        ({"filter": {"fields": {"resourceId": {"value": "x"}}}}, "filter.fields.resourceId")):
        r = admin_client.post(url, json=body)
        assert r.status_code == 400, r.text
        assert r.json()["error"]["details"]["field"] == field, r.text
    year = {"granularity": "minute", "filter": {"dateRange": {"start": "2025-01-01T00:00:00Z",
                                                              "end": "2026-06-01T00:00:00Z"}}}
    assert admin_client.post(url, json=year).status_code == 413  # 740k minute buckets: refused, not built
