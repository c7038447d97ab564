"""Batch items in the capacity gate (issue 14): they use only VMX_BATCH_HEADROOM_SHARE of each capacity
limit, counted on the same counters as live traffic (live keeps the rest), and a batch's own
`capacity[]` is enforced per batch, exactly N. In-process counters in the embedded profile, the Redis
Lua script in the production profile (fixtures of test_capacity_gate)."""

from __future__ import annotations

import asyncio
import hashlib
import time
import uuid
from typing import Any

import orjson
import pytest

from tests.fakes.upstream import Behaviour
from tests.unit.test_capacity_gate import _close_adapters, counter, limit, prefix, store  # noqa: F401 (fixtures)
from tests.unit.test_engine import ENV, KEY, WS, Harness, chat
from vmx_app.gateway.capacity.batch_share import BatchPlans, scaled
from vmx_app.gateway.capacity.counters import CounterStore
from vmx_app.gateway.capacity.enforcing import NEVER_FITS, CapacityGate
from vmx_app.gateway.config import CapacityEntry
from vmx_app.gateway.engine import GatewayRequest, GatewayResponse
from vmx_app.gateway.errors import GateHold
from vmx_app.services.batch_worker import gate_throttled


@pytest.fixture
def gate(store: CounterStore, prefix: str) -> CapacityGate:  # noqa: F811 (pytest fixtures by name)
    # A still instant in the middle of a coming minute: the counts below never straddle two windows (and the
    # counters' expiry, on the real clock, is still ahead).
    instant = (time.time() // 60 + 1) * 60 + 30
    return CapacityGate(store, prefix=prefix, wall=lambda: instant)  # the default share: 0.5



async def batch_call(h: Harness, batch_id: str, capacity: list[dict[str, Any]] | None = None) -> GatewayResponse:
    entries = tuple(CapacityEntry.model_validate(e) for e in capacity or [])
    req = GatewayRequest(WS, ENV, "chat", orjson.dumps(chat()), hashlib.sha256(KEY.encode()).hexdigest(),
                         batch_id=batch_id, batch_capacity=entries)
    return await h.engine.complete(req)


async def batch_burst(h: Harness, m: int, batch_id: str, capacity: list[dict[str, Any]] | None = None
                      ) -> list[GatewayResponse]:
    return list(await asyncio.gather(*(batch_call(h, batch_id, capacity) for _ in range(m))))


def test_the_batch_share_of_a_limit() -> None:
    assert [scaled(n, 0.5) for n in (1, 2, 9, 10, 1000)] == [1, 1, 4, 5, 500]
    assert scaled(10, 1.0) == 10 and scaled(3, 0.1) == 1  # never 0: a small limit must not stall a batch
    with pytest.raises(ValueError):
        BatchPlans("p:", 0.0)


async def test_batch_items_take_only_their_share_and_live_traffic_keeps_the_rest(
        h: Harness, gate: CapacityGate) -> None:
    conn = h.connection("openai", capacity=limit(10))
    h.resource("res", {"provider": "openai", "model": "gpt-4o", "connectionId": conn.id})
    h.fake.set_default("gpt-4o", Behaviour(delay_s=0.05))
    live = [await h.call("chat", chat()) for _ in range(3)]
    assert [r.status for r in live] == [200, 200, 200]
    # The share (5 of 10) counts live usage too: 3 live + 2 batch, then the batch waits.
    results = await batch_burst(h, 20, str(uuid.uuid4()))
    assert sum(r.status == 200 for r in results) == 2
    denied = [r for r in results if r.status == 429]
    assert len(denied) == 18
    error = orjson.loads(denied[0].body)["error"]
    assert error["code"] == "resource_exhausted"
    assert "(batch share 50%)' allows 5 requests per minute" in error["message"]
    # The answer says which level held the item: the worker waits for headroom, it never reads the text.
    assert denied[0].hold == GateHold("connection") and gate_throttled(denied[0]) == "shared"
    assert 1 <= int(denied[0].headers["retry-after"]) <= 60
    # Live traffic still has the other half: exactly 5 more of 20 concurrent live requests.
    live = await asyncio.gather(*(h.call("chat", chat()) for _ in range(20)))
    assert sum(r.status == 200 for r in live) == 5
    assert await counter(gate, "connection", conn.id, "requests") == 10
    assert len(h.fake.requests_for("gpt-4o")) == 10


async def test_the_share_applies_to_resource_limits_and_tokens(h: Harness, gate: CapacityGate) -> None:
    conn = h.connection("openai", capacity=limit(tokens=100_000))
    res = h.resource("res", {"provider": "openai", "model": "gpt-4o", "connectionId": conn.id},
                     capacity=limit(8), enforceCapacity=True)
    h.fake.set_default("gpt-4o", Behaviour(usage={"input_tokens": 10, "output_tokens": 10}))
    results = await batch_burst(h, 12, str(uuid.uuid4()))
    assert sum(r.status == 200 for r in results) == 4  # half the resource's 8
    assert await counter(gate, "resource", res.id, "requests") == 4
    assert await counter(gate, "connection", conn.id, "tokens") == 80  # corrected to real usage as usual
    # A batch item bigger than its share of a token limit (~40 of 60, share 30) would wait for ever: it may
    # use the whole limit, in a window where it fits.
    small = h.connection("openai", capacity=limit(tokens=60))
    h.resource("small", {"provider": "openai", "model": "gpt-4o", "connectionId": small.id})
    body = orjson.dumps(chat(model="small", text="w" * 160))

    def item() -> GatewayRequest:
        return GatewayRequest(WS, ENV, "chat", body, hashlib.sha256(KEY.encode()).hexdigest(), batch_id="b")

    h.fake.set_default("gpt-4o", Behaviour(usage={"input_tokens": 40, "output_tokens": 0}))
    assert (await h.engine.complete(item())).status == 200
    assert (await h.engine.complete(item())).status == 429  # 40 used: the next does not fit any more
    assert 30 < await counter(gate, "connection", small.id, "tokens") <= 60


async def test_an_item_bigger_than_the_whole_limit_fails_instead_of_waiting(h: Harness) -> None:
    """No window of a 60-token limit holds a ~300-token prompt: the answer says so, and the batch worker
    records the item as failed rather than requeueing it for ever."""
    small = h.connection("openai", capacity=limit(tokens=60))
    h.resource("tiny", {"provider": "openai", "model": "gpt-4o", "connectionId": small.id})
    body = orjson.dumps(chat(model="tiny", text="w " * 600))
    resp = await h.engine.complete(GatewayRequest(WS, ENV, "chat", body, hashlib.sha256(KEY.encode()).hexdigest(),
                                                  batch_id="big"))
    assert resp.status == 429
    assert NEVER_FITS in orjson.loads(resp.body)["error"]["message"]
    assert resp.hold == GateHold("connection", never_fits=True)
    assert gate_throttled(resp) is None  # not "wait for headroom": a failure of the item
    fits = await h.engine.complete(GatewayRequest(WS, ENV, "chat", orjson.dumps(chat(model="tiny")),
                                                  hashlib.sha256(KEY.encode()).hexdigest(), batch_id="big"))
    assert fits.status == 200


async def test_a_batch_capacity_allows_exactly_n_per_batch(h: Harness, gate: CapacityGate) -> None:
    conn = h.connection("openai")  # no connection limit: only the batch's own
    h.resource("res", {"provider": "openai", "model": "gpt-4o", "connectionId": conn.id})
    h.fake.set_default("gpt-4o", Behaviour(delay_s=0.05))
    first, second = str(uuid.uuid4()), str(uuid.uuid4())
    own = [{"period": "minute", "requests": 3}]
    results = await batch_burst(h, 15, first, own)
    assert sum(r.status == 200 for r in results) == 3
    denied = next(r for r in results if r.status == 429)
    error = orjson.loads(denied.body)["error"]
    assert error["code"] == "resource_exhausted"
    assert f"batch 'batch {first}' allows 3 requests per minute" in error["message"]
    assert gate_throttled(denied) == "batch"  # only this batch waits: the connection's headroom is untouched
    # Another batch counts on its own counters; live traffic is not limited by either.
    assert sum(r.status == 200 for r in await batch_burst(h, 15, second, own)) == 3
    assert all(r.status == 200 for r in await asyncio.gather(*(h.call("chat", chat()) for _ in range(10))))
    assert await counter(gate, "batch", first, "requests") == 3
    assert await counter(gate, "batch", second, "requests") == 3
    assert len(h.fake.requests_for("gpt-4o")) == 16


async def test_a_batch_item_answer_carries_the_providers_rate_limit_headers(h: Harness) -> None:
    conn = h.connection("openai")
    h.resource("res", {"provider": "openai", "model": "gpt-4o", "connectionId": conn.id})
    item = await batch_call(h, str(uuid.uuid4()))
    assert item.status == 200 and item.upstream_headers is not None
    assert item.upstream_headers["x-ratelimit-remaining-requests"] == "9999"  # the worker reads its headroom
    live = await h.engine.complete(GatewayRequest(WS, ENV, "chat", orjson.dumps(chat()),
                                                  hashlib.sha256(KEY.encode()).hexdigest()))
    assert live.status == 200 and live.upstream_headers is None
