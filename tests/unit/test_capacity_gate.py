"""The capacity gate inside the engine: exactly N of M concurrent requests per level, tokens
reserved then corrected, every retry counted, fallback on a full connection, source-IP counters,
and the 429's shape and headers. Runs on in-process counters in the embedded profile and on real
Redis (the Lua script) in the production profile."""

from __future__ import annotations

import asyncio
import os
import secrets
import time
from collections.abc import AsyncIterator
from typing import Any

import orjson
import pytest

from tests.fakes.upstream import Behaviour
from tests.unit.test_engine import ENV, KEY_HASH, WS, Harness, Result, chat
from vmx_app.gateway.adapters import close_all
from vmx_app.gateway.capacity.counters import CounterStore, MemoryCounters
from vmx_app.gateway.capacity.enforcing import CapacityGate
from vmx_app.gateway.capacity.limits import capacity_key
from vmx_app.gateway.capacity.windows import window_of
from vmx_app.gateway.engine import GatewayRequest


@pytest.fixture(scope="module", autouse=True)
async def _close_adapters() -> AsyncIterator[None]:
    yield
    await close_all()


@pytest.fixture
async def store() -> AsyncIterator[CounterStore]:
    url = os.environ.get("REDIS_URL")
    if url is None:
        yield MemoryCounters()
        return
    from redis.asyncio import Redis

    from vmx_app.gateway.capacity.redis_counters import RedisCounters

    client = Redis.from_url(url)
    yield RedisCounters(client, url=url)
    await client.aclose()


@pytest.fixture
def prefix() -> str:
    return f"{os.environ.get('REDIS_KEY_PREFIX', 'vmx:')}{secrets.token_hex(4)}:"


@pytest.fixture
def gate(store: CounterStore, prefix: str) -> CapacityGate:
    return CapacityGate(store, prefix=prefix)



async def counter(gate: CapacityGate, level: str, entity: str, metric: str, period: str = "minute",
                  ip: str | None = None) -> int:
    await gate.flush()
    key = capacity_key(gate.prefix, ENV, level, entity, period, window_of(period, gate.wall()).name, ip)
    return (await gate.store.read([(key, metric)]))[0]


async def burst(h: Harness, m: int, body: dict[str, Any], **kw: Any) -> list[Result]:
    return list(await asyncio.gather(*(h.call("chat", body, **kw) for _ in range(m))))


def limit(requests: int | None = None, tokens: int | None = None, **extra: Any) -> list[dict[str, Any]]:
    return [{"period": "minute", "requests": requests, "tokens": tokens, **extra}]


@pytest.mark.parametrize("level", ["connection", "resource", "api-key"])
async def test_exactly_n_of_many_concurrent_requests_pass(h: Harness, gate: CapacityGate, level: str) -> None:
    n, m = 5, 40
    h.fake.set_default("gpt-4o", Behaviour(delay_s=0.05))  # all in flight at once
    over = {"capacity": limit(n)} if level == "connection" else {}
    conn = h.connection("openai", **over)
    slot = {"provider": "openai", "model": "gpt-4o", "connectionId": conn.id}
    res = h.resource("res", slot, **({"capacity": limit(n), "enforceCapacity": True} if level == "resource" else {}))
    key = h.config.keys[KEY_HASH]
    if level == "api-key":
        h.config.keys[KEY_HASH] = type(key).model_validate({**key.dump(), "capacity": limit(n),
                                                             "enforceCapacity": True})
    results = await burst(h, m, chat())
    ok = [r for r in results if r.status == 200]
    denied = [r for r in results if r.status == 429]
    assert len(ok) == n and len(denied) == m - n
    assert len(h.fake.requests_for("gpt-4o")) == n
    entity = {"connection": conn.id, "resource": res.id, "api-key": key.id}[level]
    assert await counter(gate, level, entity, "requests") == n
    err = denied[0].json()["error"]
    assert err["code"] == "resource_exhausted" and err["type"] == "rate_limit_error"
    name = {"connection": conn.name, "resource": "res", "api-key": "test-key"}[level]
    assert f"{level} {name!r} allows {n} requests per minute" in err["message"]
    assert 1 <= int(denied[0].headers["retry-after"]) <= 60
    assert denied[0].headers["x-ratelimit-limit-requests"] == str(n)
    assert denied[0].headers["x-ratelimit-remaining-requests"] == "0"
    assert denied[0].headers["x-ratelimit-reset-requests"].endswith("s")
    assert sorted(int(r.headers["x-ratelimit-remaining-requests"]) for r in ok) == list(range(n))


async def test_tokens_are_reserved_then_corrected_to_real_usage(h: Harness, gate: CapacityGate) -> None:
    conn = h.connection("openai", capacity=limit(tokens=10_000))
    h.resource("res", {"provider": "openai", "model": "gpt-4o", "connectionId": conn.id})
    h.fake.script("gpt-4o", Behaviour(usage={"input_tokens": 40, "output_tokens": 60}))
    task = asyncio.ensure_future(h.call("chat", chat(text="x" * 400)))
    r = await task
    assert r.status == 200
    assert await counter(gate, "connection", conn.id, "tokens") == 100  # estimate replaced by 40 + 60
    assert r.headers["x-ratelimit-limit-tokens"] == "10000"
    # Reserved before the call: a slow request holds its estimate until it ends.
    h.fake.script("gpt-4o", Behaviour(delay_s=0.3, usage={"input_tokens": 1, "output_tokens": 1}))
    slow = asyncio.ensure_future(h.call("chat", chat(text="y" * 4000)))
    await asyncio.sleep(0.15)
    held = await counter(gate, "connection", conn.id, "tokens")
    assert held > 600  # ~670 estimated tokens (4000 letters) taken up front
    assert (await slow).status == 200
    assert await counter(gate, "connection", conn.id, "tokens") == 102


async def test_a_token_limit_refuses_what_would_not_fit(h: Harness, gate: CapacityGate) -> None:
    conn = h.connection("openai", capacity=limit(tokens=500))
    h.resource("res", {"provider": "openai", "model": "gpt-4o", "connectionId": conn.id})
    r = await h.call("chat", chat(text="z" * 4000))
    assert r.status == 429 and "allows 500 tokens per minute" in r.json()["error"]["message"]
    assert not h.fake.requests_for("gpt-4o")
    assert await counter(gate, "connection", conn.id, "requests") == 0  # nothing taken: all or none


async def test_every_retry_takes_a_request_and_a_failure_gives_tokens_back(h: Harness, gate: CapacityGate) -> None:
    conn = h.connection("openai", capacity=limit(requests=100, tokens=100_000))
    h.resource("res", {"provider": "openai", "model": "gpt-4o", "connectionId": conn.id, "maxRetries": 3})
    h.fake.set_default("gpt-4o", Behaviour(status=500))
    r = await h.call("chat", chat())
    assert r.status == 502 and len(h.fake.requests_for("gpt-4o")) == 4
    assert await counter(gate, "connection", conn.id, "requests") == 4
    assert await counter(gate, "connection", conn.id, "tokens") == 0


async def test_retries_stop_when_the_connection_is_full(h: Harness, gate: CapacityGate) -> None:
    conn = h.connection("openai", capacity=limit(requests=2))
    h.resource("res", {"provider": "openai", "model": "gpt-4o", "connectionId": conn.id, "maxRetries": 3})
    h.fake.set_default("gpt-4o", Behaviour(status=500))
    r = await h.call("chat", chat())
    assert r.status == 429 and len(h.fake.requests_for("gpt-4o")) == 2
    assert r.json()["error"]["code"] == "resource_exhausted"


async def test_a_full_connection_falls_back_with_a_capacity_event(h: Harness, gate: CapacityGate) -> None:
    full = h.connection("openai", capacity=limit(requests=1))
    spare = h.connection("anthropic")
    h.resource("res", {"provider": "openai", "model": "gpt-4o", "connectionId": full.id}, useFallback=True,
               fallbackModels=[{"provider": "anthropic", "model": "claude-sonnet-4-5", "connectionId": spare.id}])
    assert (await h.call("chat", chat())).headers["x-vmx-model"] == "gpt-4o"
    r = await h.call("chat", chat())
    assert r.status == 200 and r.headers["x-vmx-model"] == "claude-sonnet-4-5"
    assert r.headers["x-vmx-event-0-fallback-failure-reason"] == "capacity"
    assert r.headers["x-vmx-event-0-fallback-status-code"] == "429"
    assert r.record is not None and r.record.events[0]["failureReason"] == "capacity"


async def test_resource_denial_does_not_fall_back(h: Harness, gate: CapacityGate) -> None:
    a, b = h.connection("openai"), h.connection("anthropic")
    h.resource("res", {"provider": "openai", "model": "gpt-4o", "connectionId": a.id}, useFallback=True,
               fallbackModels=[{"provider": "anthropic", "model": "claude-sonnet-4-5", "connectionId": b.id}],
               capacity=limit(requests=1), enforceCapacity=True)
    assert (await h.call("chat", chat())).status == 200
    r = await h.call("anthropic", {**chat(), "max_tokens": 10})
    assert r.status == 429 and r.json()["error"]["type"] == "rate_limit_error"
    assert "resource 'res' allows 1 requests per minute" in r.json()["error"]["message"]
    assert not h.fake.requests_for("claude-sonnet-4-5") and r.headers["x-vmx-event-count"] == "0"


async def test_enforce_capacity_off_ignores_resource_limits(h: Harness, gate: CapacityGate) -> None:
    h.resource("res", h.slot("openai", "gpt-4o"), capacity=limit(requests=1), enforceCapacity=False)
    assert [(await h.call("chat", chat())).status for _ in range(3)] == [200, 200, 200]


async def test_source_ip_dimension_counts_per_client(h: Harness, gate: CapacityGate) -> None:
    conn = h.connection("openai", capacity=limit(requests=2, dimension="source-ip"))
    h.resource("res", {"provider": "openai", "model": "gpt-4o", "connectionId": conn.id})
    a = [(await h.call("chat", chat(), source_ip="10.1.1.1")).status for _ in range(3)]
    b = [(await h.call("chat", chat(), source_ip="10.2.2.2")).status for _ in range(3)]
    assert a == [200, 200, 429] and b == [200, 200, 429]
    assert await counter(gate, "connection", conn.id, "requests", ip="10.1.1.1") == 2
    r = await h.call("chat", chat(), source_ip="10.1.1.1")
    assert "per source IP (10.1.1.1)" in r.json()["error"]["message"]


async def test_levels_keep_their_own_counters(h: Harness, gate: CapacityGate) -> None:
    conn = h.connection("openai", capacity=limit(requests=10))
    slot = {"provider": "openai", "model": "gpt-4o", "connectionId": conn.id}
    one = h.resource("res", slot, capacity=limit(requests=10), enforceCapacity=True)
    two = h.resource("res2", slot, capacity=limit(requests=10), enforceCapacity=True)
    for _ in range(3):
        await h.call("chat", chat("res"))
    await h.call("chat", chat("res2"))
    assert await counter(gate, "resource", one.id, "requests") == 3
    assert await counter(gate, "resource", two.id, "requests") == 1
    assert await counter(gate, "connection", conn.id, "requests") == 4


async def test_streams_settle_at_the_end_and_when_the_client_leaves(h: Harness, gate: CapacityGate) -> None:
    conn = h.connection("openai", capacity=limit(tokens=100_000))
    h.resource("res", {"provider": "openai", "model": "gpt-4o", "connectionId": conn.id})
    h.fake.script("gpt-4o", Behaviour(usage={"input_tokens": 7, "output_tokens": 5}))
    r = await h.call("chat", chat(stream=True, stream_options={"include_usage": True}))
    assert r.status == 200
    assert await counter(gate, "connection", conn.id, "tokens") == 12
    h.fake.script("gpt-4o", Behaviour(chunk_delay_s=0.05, text="a b c d e f g h i j"))
    resp = await h.engine.complete(h_request(h, chat(text="q" * 4000, stream=True)))
    assert resp.stream is not None
    async for _ in resp.stream:
        break  # the client leaves after the first bytes
    await resp.stream.aclose()  # type: ignore[attr-defined]
    await asyncio.sleep(0.05)
    assert await counter(gate, "connection", conn.id, "tokens") == 12  # its ~670 estimate went back


def h_request(h: Harness, body: dict[str, Any]) -> GatewayRequest:
    return GatewayRequest(WS, ENV, "chat", orjson.dumps(body), KEY_HASH, "10.0.0.1", None, 5 * 1024 * 1024)


async def test_a_new_minute_starts_new_counters(h: Harness, gate: CapacityGate, store: CounterStore) -> None:
    now = [(int(time.time()) // 60 + 60) * 60 + 30.0]  # half past a minute, an hour ahead
    gate.wall = lambda: now[0]
    if isinstance(store, MemoryCounters):
        store._wall = gate.wall  # noqa: SLF001 - the same clock for expiry
    conn = h.connection("openai", capacity=limit(requests=1))
    h.resource("res", {"provider": "openai", "model": "gpt-4o", "connectionId": conn.id})
    assert [(await h.call("chat", chat())).status for _ in range(2)] == [200, 429]
    now[0] += 30  # the next minute
    assert [(await h.call("chat", chat())).status for _ in range(2)] == [200, 429]


async def test_two_entries_of_one_period_count_each_request_once(h: Harness, gate: CapacityGate) -> None:
    conn = h.connection("openai", capacity=limit(10) + limit(3))
    h.resource("res", {"provider": "openai", "model": "gpt-4o", "connectionId": conn.id})
    h.fake.set_default("gpt-4o", Behaviour(delay_s=0.05))
    results = await burst(h, 8, chat())
    assert sorted(r.status for r in results) == [200] * 3 + [429] * 5
    assert "allows 3 requests per minute" in next(r for r in results if r.status == 429).json()["error"]["message"]
    assert await counter(gate, "connection", conn.id, "requests") == 3
