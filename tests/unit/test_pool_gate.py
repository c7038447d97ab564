"""Prioritization at the gate: a pool may use its share of the connection's minute tokens, a denial is
a 429 `prioritization_gate_denied` that falls back to the next model, and the background allocation
(stored where every process reads it) moves shares toward the pool that uses them."""

from __future__ import annotations

import orjson
import pytest

from tests.unit.test_capacity_gate import _close_adapters, prefix, store  # noqa: F401 (fixtures)
from tests.unit.test_engine import ENV, WS, Harness, chat
from vmx_app.gateway.capacity.counters import CounterStore
from vmx_app.gateway.capacity.enforcing import CapacityGate
from vmx_app.gateway.config import EnvironmentSnapshot
from vmx_app.gateway.errors import GateHold


@pytest.fixture
def gate(store: CounterStore, prefix: str) -> CapacityGate:  # noqa: F811
    return CapacityGate(store, prefix=prefix)



def pools(h: Harness, *definition: dict[str, object]) -> None:
    h.config.environments[ENV] = EnvironmentSnapshot.model_validate(
        {"id": ENV, "workspaceId": WS, "name": "prod", "pools": list(definition)})


def setup(h: Harness, *, fallback: bool = False, batch_max: int = 100) -> str:
    conn = h.connection("openai", capacity=[{"period": "minute", "tokens": 1000}])
    slot = {"provider": "openai", "model": "gpt-4o", "connectionId": conn.id}
    extra = {"useFallback": True, "fallbackModels": [h.slot("anthropic", "claude-sonnet-4-5")]} if fallback else {}
    chat_res = h.resource("chat-res", slot)
    batch_res = h.resource("batch-res", slot, **extra)
    pools(h, {"name": "interactive", "rank": 1, "minReservation": 60, "maxReservation": 100,
              "resources": [chat_res.id]},
          {"name": "batch", "rank": 2, "minReservation": 10, "maxReservation": batch_max,
           "resources": [batch_res.id]})
    return conn.id


PROMPT = "w " * 150  # ~50 estimated tokens


async def test_a_pool_is_held_to_its_share(h: Harness, gate: CapacityGate) -> None:
    setup(h, batch_max=10)
    statuses = [(await h.call("chat", chat("batch-res", PROMPT))).status for _ in range(3)]
    assert statuses[0] == 200 and statuses[-1] == 429  # 10 % of 1000 tokens: one ~80-token request
    r = await h.call("chat", chat("batch-res", PROMPT))
    err = r.json()["error"]
    assert err["code"] == "prioritization_gate_denied" and "pool 'batch' may use 10 %" in err["message"]
    assert r.response.hold == GateHold("pool")  # waiting helps: batch items hold back, never fail for it
    assert 1 <= int(r.headers["retry-after"]) <= 60
    assert (await h.call("chat", chat("chat-res", PROMPT))).status == 200  # the other pool has its own share


async def test_prioritization_denial_falls_back(h: Harness, gate: CapacityGate) -> None:
    setup(h, fallback=True, batch_max=10)
    for _ in range(3):
        r = await h.call("chat", chat("batch-res", PROMPT))
    assert r.status == 200 and r.headers["x-vmx-model"] == "claude-sonnet-4-5"
    assert r.headers["x-vmx-event-0-fallback-failure-reason"] == "capacity"


async def test_allocation_is_shared_and_moves_toward_use(h: Harness, gate: CapacityGate) -> None:
    conn_id = setup(h)
    for _ in range(2):
        await h.call("chat", chat("batch-res", PROMPT))
    await gate.flush()
    env = h.config.environments[ENV]
    from vmx_app.gateway.capacity.pools import Pool

    defined = [Pool.of(p.dump()) for p in env.pools]
    allocation = await gate.pools.refresh(ENV, conn_id, defined, 1000)
    assert allocation is not None
    # Only batch was active: interactive lends its share (0), batch grows toward what it uses.
    assert allocation.percent(defined[0]) == 0 and allocation.percent(defined[1]) >= 10
    stored = await gate.store.get_text(f"{gate.prefix}pool:{{{ENV}}}:{conn_id}:allocation")
    assert stored is not None and orjson.loads(stored)["shares"]["batch"]["current"] == allocation.percent(defined[1])
