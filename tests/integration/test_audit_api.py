"""Audit trail API: filters, keyset pagination newest first, the full row, streamed exports, and the
error-rate endpoint; rows made by real gateway calls (with a fallback) and generated in bulk."""

from __future__ import annotations

import csv
import io
import random
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import orjson
import pytest

from tests.fakes.upstream import Behaviour, FakeUpstream
from tests.sdk.env import Env, audit_row, check, make_env
from vmx_app.audit.stores import store_for_settings
from vmx_app.gateway.audit import AuditRecord

BULK = 12_000  # more than two export pages
T0 = datetime(2026, 5, 1, tzinfo=UTC)


@pytest.fixture(scope="module")
async def env(app_url: str, admin_client: httpx.Client, fake_upstream: FakeUpstream) -> Env:
    return make_env(app_url, admin_client, fake_upstream, "audit")


@pytest.fixture(scope="module")
async def bulk(admin_client: httpx.Client) -> tuple[str, str, list[AuditRecord]]:
    """A separate environment with generated rows (several share a timestamp: the id breaks ties)."""
    ws = check(admin_client.post("/v1/workspace", json={"name": f"audit-bulk-{uuid.uuid4().hex[:6]}"}))["id"]
    env_id = check(admin_client.post(f"/v1/environment/{ws}", json={"name": "bulk"}))["id"]
    rng = random.Random(3)
    resources = [str(uuid.uuid4()) for _ in range(3)]
    records = [AuditRecord(
        request_id=f"bulk-{i}", created_at=T0 + timedelta(seconds=i // 3), workspace_id=ws, environment_id=env_id,
        endpoint="chat.completions", status_code=rng.choice([200, 200, 200, 429, 500, 503]),
        resource_id=resources[i % 3], provider=rng.choice(["openai", "anthropic"]), model="m",
        error_message=rng.choice([None, "Upstream 100% BUSY", "quota exceeded"]),
        correlation_id=f"corr-{i % 50}", request_payload={"i": i}) for i in range(BULK)]

    # On the session's event loop, where the process-wide engine lives (asyncpg binds to one loop).
    async def write() -> None:
        store = store_for_settings()
        for start in range(0, BULK, 2000):
            await store.write([store.encode(r) for r in records[start:start + 2000]])
        await store.close()

    await write()
    return ws, env_id, records


def _pages(client: httpx.Client, url: str, **params: Any) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    cursor = None
    while True:
        body = check(client.get(url, params={**params, **({"cursor": cursor} if cursor else {})}), 200)
        rows.extend(body["data"])
        cursor = body["nextCursor"]
        if cursor is None:
            return rows


def test_gateway_calls_are_listed_by_correlation_id_with_their_fallback(
        env: Env, admin_client: httpx.Client, fake_upstream: FakeUpstream) -> None:
    env.resource(env.slot("openai", "audit-primary"), name="audited", useFallback=True,
                 fallbackModels=[env.slot("anthropic", "claude-sonnet-4-5")])
    fake_upstream.script("audit-primary", Behaviour(status=500))
    corr = f"trace-{uuid.uuid4().hex[:8]}"
    with httpx.Client(base_url=env.base_url, headers=env.headers(), timeout=30) as http:
        ids = []
        for i in range(3):
            body = {"model": "audited", "messages": [{"role": "user", "content": f"q{i}"}],
                    "vmx": {"correlationId": corr}}
            r = http.post("/chat/completions", json=body)
            assert r.status_code == 200, r.text
            ids.append(r.headers["x-vmx-request-id"])
    audit_row(ids[-1])  # flushed
    listed = check(admin_client.get(f"/v1/completion-audit/{env.ws}/{env.env}",
                                    params={"correlationId": corr}), 200)["data"]
    assert [r["requestId"] for r in listed] == ids[::-1]  # newest first
    assert "requestPayload" not in listed[0]
    full = check(admin_client.get(f"/v1/completion-audit/{env.ws}/{env.env}/{listed[-1]['id']}"), 200)
    assert full["requestPayload"]["messages"][0]["content"] == "q0" and full["responsePayload"]
    assert full["events"][0]["type"] == "fallback" and full["events"][0]["statusCode"] == 500
    assert full["apiKeyId"] == env.key_id and full["cost"]["currency"] == "USD"
    assert set(full["cost"]) >= {"total", "input", "output", "cached", "reasoning"}
    metric = check(admin_client.get(f"/v1/completion-metric/{env.ws}/{env.env}/{full['resourceId']}/error-rate",
                                    params={"window": 10}), 200)
    # The script fails the primary once: the first call fell back, the next two were served by it.
    assert metric == {"errorRate": pytest.approx(100 / 3), "totalSuccess": 2, "totalFailed": 1, "totalRequests": 3}


def test_pagination_is_newest_first_and_serves_every_row_once(admin_client: httpx.Client, bulk: Any) -> None:
    ws, env_id, records = bulk
    rows = _pages(admin_client, f"/v1/completion-audit/{ws}/{env_id}", limit=500, resourceId=records[0].resource_id)
    want = [r for r in records if r.resource_id == records[0].resource_id]
    assert sorted(r["requestId"] for r in rows) == sorted(r.request_id for r in want)
    keys = [(r["createdAt"], r["id"]) for r in rows]
    assert keys == sorted(keys, reverse=True) and len(set(keys)) == len(keys)


@pytest.mark.parametrize(("params", "keep"), [
    ({"statusCode": "429"}, lambda r: r.status_code == 429),
    ({"statusCode": "5xx"}, lambda r: 500 <= r.status_code < 600),
    ({"errorOnly": "true"}, lambda r: r.status_code >= 400),
    ({"errorMessage": "100% busy"}, lambda r: r.error_message == "Upstream 100% BUSY"),
    ({"errorMessage": "upstream%busy"}, lambda r: False),  # % is literal text, not a wildcard
    ({"provider": "anthropic", "correlationId": "corr-7"}, lambda r: r.provider == "anthropic"
     and r.correlation_id == "corr-7"),
    ({"start": (T0 + timedelta(seconds=100)).isoformat(), "end": (T0 + timedelta(seconds=200)).isoformat()},
     lambda r: T0 + timedelta(seconds=100) <= r.created_at < T0 + timedelta(seconds=200)),
])
def test_filters(admin_client: httpx.Client, bulk: Any, params: dict[str, str], keep: Any) -> None:
    ws, env_id, records = bulk
    rows = _pages(admin_client, f"/v1/completion-audit/{ws}/{env_id}", limit=500, **params)
    assert sorted(r["requestId"] for r in rows) == sorted(r.request_id for r in records if keep(r))


def test_rows_stay_in_their_environment(admin_client: httpx.Client, bulk: Any, env: Env) -> None:
    ws, env_id, _ = bulk
    first = check(admin_client.get(f"/v1/completion-audit/{ws}/{env_id}", params={"limit": 1}), 200)["data"][0]
    assert admin_client.get(f"/v1/completion-audit/{env.ws}/{env.env}/{first['id']}").status_code == 404
    assert admin_client.get(f"/v1/completion-audit/{ws}/{env_id}", params={"cursor": "nonsense"}).status_code == 400
    assert admin_client.get(f"/v1/completion-audit/{ws}/{env_id}", params={"limit": 501}).status_code == 422


@pytest.mark.parametrize("fmt", ["jsonl", "csv"])
def test_export_streams_every_row(admin_client: httpx.Client, bulk: Any, fmt: str) -> None:
    ws, env_id, records = bulk
    with admin_client.stream("GET", f"/v1/completion-audit/{ws}/{env_id}/export", params={"format": fmt}) as r:
        assert r.status_code == 200
        assert "chunked" in r.headers.get("transfer-encoding", "")  # streamed, never one body in memory
        raw = b"".join(r.iter_bytes())
    if fmt == "jsonl":
        rows = [orjson.loads(line) for line in raw.splitlines()]
    else:
        rows = list(csv.DictReader(io.StringIO(raw.decode())))
    assert len(rows) == BULK
    assert sorted(r["requestId"] for r in rows) == sorted(r.request_id for r in records)
    assert [r["createdAt"] for r in rows] == sorted((r["createdAt"] for r in rows), reverse=True)
    payload = rows[0]["requestPayload"]
    assert (orjson.loads(payload) if fmt == "csv" else payload)["i"] >= 0
    # The export's rows are the API's rows, field for field (on PostgreSQL, COPY builds them itself).
    api = check(admin_client.get(f"/v1/completion-audit/{ws}/{env_id}/{rows[0]['id']}"), 200)
    assert rows[0] == (api if fmt == "jsonl" else {k: _csv_cell(v) for k, v in api.items()})


def _csv_cell(value: Any) -> Any:
    """An API value as the CSV export writes it: JSON and numbers as their text, compared parsed (spacing
    differs between the databases, and PostgreSQL writes the float 3.0 as 3)."""
    if isinstance(value, dict | list | float):
        return _Json(value)
    return "" if value is None else str(value)


class _Json:
    """Equal to any CSV cell that holds this JSON value or number."""

    def __init__(self, value: Any) -> None:
        self.value = value

    def __eq__(self, cell: object) -> bool:
        return isinstance(cell, str) and orjson.loads(cell) == self.value

    def __repr__(self) -> str:
        return f"json {self.value!r}"
