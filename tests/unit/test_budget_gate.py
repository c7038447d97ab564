"""Spend budgets in the engine (DESIGN §10): the worst-case cost reserved atomically with capacity,
exactly the requests whose reservation fits let through under concurrency, settlement to the real
cost, release on failure, a 429 `insufficient_quota` / `budget_exceeded` without fallback."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import pytest

from tests.fakes.upstream import Behaviour
from tests.unit.test_capacity_gate import _close_adapters, prefix, store  # noqa: F401 (fixtures)
from tests.unit.test_engine import ENV, KEY_HASH, WS, Harness, chat
from vmx_app.gateway.capacity.counters import CounterStore
from vmx_app.gateway.capacity.enforcing import CapacityGate
from vmx_app.gateway.capacity.limits import BUDGET_FIELDS, budget_key
from vmx_app.gateway.capacity.windows import window_of
from vmx_app.gateway.config import EnvironmentSnapshot
from vmx_app.gateway.tokens import estimate_tokens
from vmx_app.gateway.types import Usage

PRICE_IN, PRICE_OUT = 1000.0, 2000.0  # USD per million tokens: big enough to count in cents


def cost_usd(_provider: str, model: str, usage: Usage) -> float | None:
    return (usage.input * PRICE_IN + usage.output * PRICE_OUT) / 1e6 if model == "gpt-4o" else None


@pytest.fixture
def gate(store: CounterStore, prefix: str) -> CapacityGate:  # noqa: F811
    return CapacityGate(store, prefix=prefix, cost_of=cost_usd, default_max_output=1000,
                        price_of=lambda _p, m: (PRICE_IN, PRICE_OUT) if m == "gpt-4o" else None)



def worst_case(body: dict[str, Any]) -> float:
    return (estimate_tokens(body) * PRICE_IN + body.get("max_tokens", 1000) * PRICE_OUT) / 1e6


async def budget(gate: CapacityGate, level: str, entity: str, period: str = "day") -> tuple[float, float]:
    """(reserved, spent) in USD."""
    await gate.flush()
    key = budget_key(gate.prefix, ENV, level, entity, period, window_of(period, gate.wall()).name)
    reserved, spent = await gate.store.read([(key, f) for f in BUDGET_FIELDS])
    return reserved / 1e9, spent / 1e9


def set_budget(h: Harness, level: str, amount: float, period: str = "day") -> str:
    entry = [{"period": period, "amountUsd": amount}]
    if level == "environment":
        h.config.environments[ENV] = EnvironmentSnapshot(id=ENV, workspace_id=WS, name="prod",
                                                         budgets=entry)  # type: ignore[arg-type]
        return ENV
    if level == "api-key":
        key = h.config.keys[KEY_HASH]
        h.config.keys[KEY_HASH] = type(key).model_validate({**key.dump(), "budgets": entry})
        return key.id
    res = h.config.resources[(ENV, "res")]
    h.config.resources[(ENV, "res")] = type(res).model_validate({**res.dump(), "budgets": entry})
    return res.id


@pytest.mark.parametrize("level", ["environment", "resource", "api-key"])
async def test_exactly_the_reservations_that_fit_pass(h: Harness, gate: CapacityGate, level: str) -> None:
    h.resource("res", h.slot("openai", "gpt-4o"))
    body = chat(max_tokens=100)
    n, m = 4, 30
    entity = set_budget(h, level, worst_case(body) * n + worst_case(body) / 2)
    h.fake.set_default("gpt-4o", Behaviour(delay_s=0.05))
    results = await asyncio.gather(*(h.call("chat", body) for _ in range(m)))
    assert sorted(r.status for r in results) == [200] * n + [429] * (m - n)
    err = next(r for r in results if r.status == 429).json()["error"]
    assert err["type"] == "insufficient_quota" and err["code"] == "budget_exceeded"
    assert next(r for r in results if r.status == 429).response.hold is None  # spent, not held: no wait
    assert f"{level} " in err["message"] and "per day" in err["message"] and "spent $" in err["message"]
    reserved, spent = await budget(gate, level, entity)
    assert reserved == 0 and spent == pytest.approx(n * cost_usd("openai", "gpt-4o", Usage(1, 3)), abs=1e-6)


async def test_reserved_before_settled_after_released_on_failure(h: Harness, gate: CapacityGate) -> None:
    h.resource("res", h.slot("openai", "gpt-4o"))
    set_budget(h, "environment", 100.0)
    body = chat(max_tokens=50)
    h.fake.script("gpt-4o", Behaviour(delay_s=0.3, usage={"input_tokens": 10, "output_tokens": 20}))
    pending = asyncio.ensure_future(h.call("chat", body))
    await asyncio.sleep(0.15)
    assert await budget(gate, "environment", ENV) == (pytest.approx(worst_case(body), abs=1e-8), 0)
    assert (await pending).status == 200
    assert await budget(gate, "environment", ENV) == (0, pytest.approx(0.05, abs=1e-8))  # 10·1000 + 20·2000
    h.fake.script("gpt-4o", Behaviour(status=500))
    assert (await h.call("chat", body)).status == 502
    assert await budget(gate, "environment", ENV) == (0, pytest.approx(0.05, abs=1e-8))


async def test_budget_denial_does_not_fall_back(h: Harness, gate: CapacityGate) -> None:
    h.resource("res", h.slot("openai", "gpt-4o"), useFallback=True,
               fallbackModels=[h.slot("anthropic", "claude-sonnet-4-5")])
    set_budget(h, "resource", worst_case(chat(max_tokens=10)) / 2)
    r = await h.call("anthropic", chat(max_tokens=10))
    assert r.status == 429 and r.json()["type"] == "error" and "budget exceeded" in r.json()["error"]["message"]
    assert not h.fake.requests_for("gpt-4o") and not h.fake.requests_for("claude-sonnet-4-5")


async def test_unpriced_model_costs_nothing_and_is_logged_once(h: Harness, gate: CapacityGate,
                                                               caplog: pytest.LogCaptureFixture) -> None:
    h.resource("res", h.slot("openai", "gpt-4o-mini"))
    set_budget(h, "environment", 0.000001)
    with caplog.at_level(logging.WARNING, "vmx.gateway.capacity"):
        statuses = [(await h.call("chat", chat(model="res"))).status for _ in range(3)]
    assert statuses == [200, 200, 200]
    assert sum("no pricing entry for openai/gpt-4o-mini" in r.message for r in caplog.records) == 1
    assert await budget(gate, "environment", ENV) == (0, 0)
