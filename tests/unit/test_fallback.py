"""Leg planning, failure classification, backoff, budgets and the circuit breaker."""

from __future__ import annotations

import math
import random

import pytest

from vmx_app.gateway.config import ModelSlot, ResourceConfig, RoutingConfig
from vmx_app.gateway.fallback import (
    BACKOFF_CAP_S,
    CircuitBreaker,
    SecondaryModelIndexError,
    backoff_delay,
    deadline_from,
    is_fallback_worthy,
    is_retryable,
    leg_timeout,
    plan_legs,
    remaining_budget,
)
from vmx_app.gateway.routing import RoutingDecision, RoutingInput, evaluate_routing


def slot(model: str, **extra: object) -> dict[str, object]:
    return {"provider": "openai", "model": model, "connectionId": "c", **extra}


RES = ResourceConfig.model_validate({
    "model": slot("primary"),
    "secondaryModels": [slot("sec0"), slot("sec1")],
    "useFallback": True,
    "fallbackModels": [slot("fb0"), slot("fb1")],
    "routing": {"enabled": True, "conditions": [
        {"if": [{"field": "stream", "operator": "equals", "value": False}], "then": slot("never")},
        {"if": [{"field": "stream", "operator": "equals", "value": False}], "then": slot("never2")},
        {"if": [{"field": "stream", "operator": "equals", "value": True}], "then": slot("routed")}]},
})


def models(legs: list) -> list[tuple[str, str]]:
    return [(leg.slot.model, leg.label) for leg in legs]


def test_primary_then_fallbacks() -> None:
    assert models(plan_legs(RES, None, None)) == [
        ("primary", "model"), ("fb0", "fallbackModels[0]"), ("fb1", "fallbackModels[1]")]
    assert plan_legs(RES, None, None)[0].kind == "primary"


def test_routed_model_first() -> None:
    decision = evaluate_routing(RES.routing, RoutingInput(stream=True), lambda w, s: 0.0)
    legs = plan_legs(RES, decision, None)
    assert models(legs)[0] == ("routed", "routing.conditions[2].then") and legs[0].kind == "routed"
    assert [m for m, _ in models(legs)[1:]] == ["fb0", "fb1"]


@pytest.mark.parametrize("index", [0, 1])
def test_secondary_index_pins_and_skips_routing(index: int) -> None:
    decision = evaluate_routing(RES.routing, RoutingInput(stream=True), lambda w, s: 0.0)
    legs = plan_legs(RES, decision, index)
    assert models(legs)[0] == (f"sec{index}", f"secondaryModels[{index}]")
    assert [m for m, _ in models(legs)[1:]] == ["fb0", "fb1"]  # fallback still applies


@pytest.mark.parametrize("index", [2, -1, 99])
def test_secondary_index_out_of_range(index: int) -> None:
    with pytest.raises(SecondaryModelIndexError, match="vmx.secondaryModelIndex") as info:
        plan_legs(RES, None, index)
    assert isinstance(info.value, IndexError) and isinstance(info.value, ValueError)
    assert info.value.field == "vmx.secondaryModelIndex"


def test_no_fallback_when_disabled_and_block_has_no_legs() -> None:
    off = RES.model_copy(update={"use_fallback": False})
    assert models(plan_legs(off, None, None)) == [("primary", "model")]
    with pytest.raises(ValueError):
        plan_legs(RES, RoutingDecision(action="block", condition_index=0), None)
    none = evaluate_routing(RoutingConfig(), RoutingInput(), lambda w, s: 0.0)
    assert models(plan_legs(off, none, None)) == [("primary", "model")]


@pytest.mark.parametrize(("status", "kind", "worthy", "retry"), [
    (500, "http", True, True), (502, "http", True, True), (503, "http", True, True),
    (504, "http", True, True), (529, "http", True, True), (429, "http", True, True),
    (408, "http", True, True),
    (400, "http", False, False), (413, "http", False, False), (422, "http", False, False),
    # the provider refusing the connection's credentials or model: the next leg, no retry
    (401, "http", True, False), (403, "http", True, False), (404, "http", True, False),
    (None, "http", True, True), (None, "timeout", True, True), (None, "network", True, True),
    (429, "gate", True, False), (None, "gate", True, False),
])
def test_failure_classification(status: int | None, kind: str, worthy: bool, retry: bool) -> None:
    assert is_fallback_worthy(status, kind) is worthy  # type: ignore[arg-type]
    assert is_retryable(status, kind) is retry  # type: ignore[arg-type]


def test_backoff_full_jitter_bounds() -> None:
    rng = random.Random(7)
    for attempt in range(12):
        ceiling = min(BACKOFF_CAP_S, 0.2 * 2 ** attempt)
        delays = [backoff_delay(attempt, None, rng.random) for _ in range(200)]
        assert all(0 <= d < ceiling for d in delays)
        assert max(delays) > ceiling * 0.8  # the whole range is used
    assert backoff_delay(0, None, lambda: 0.999999) < 0.2
    assert backoff_delay(50, None, lambda: 0.999999) == pytest.approx(8.0, rel=1e-3)
    assert backoff_delay(1000, None, lambda: 0.5) == 4.0


def test_backoff_honours_retry_after() -> None:
    assert backoff_delay(0, 2.5, lambda: 0.0) == 2.5
    assert backoff_delay(0, 120, lambda: 0.0) == 30.0
    assert backoff_delay(3, 0, lambda: 0.9) == 0.0
    assert backoff_delay(1, -1, lambda: 0.5) == pytest.approx(0.2)  # nonsense header ignored


def test_budget_helpers() -> None:
    assert deadline_from(None, 10.0) is None and deadline_from(1500, 10.0) == 11.5
    assert remaining_budget(None, 5.0) == math.inf
    assert remaining_budget(11.5, 10.0) == 1.5 and remaining_budget(11.5, 20.0) == 0.0
    fast = ModelSlot(provider="openai", model="m", timeout_ms=500)
    free = ModelSlot(provider="openai", model="m")
    assert leg_timeout(fast, 20.0, 10.0) == 0.5
    assert leg_timeout(fast, 10.2, 10.0) == pytest.approx(0.2)
    assert leg_timeout(free, 12.0, 10.0) == 2.0
    assert leg_timeout(free, None, 10.0) is None


def test_circuit_breaker_state_machine() -> None:
    cb, key = CircuitBreaker(failure_threshold=3, cooldown_s=30), ("conn", "gpt-4o")
    t = 100.0
    for _ in range(2):
        assert cb.allow(key, t)
        cb.record_failure(key, t)
    assert cb.state(key, t) == "closed"
    cb.record_success(key, t)  # success resets the consecutive count
    for _ in range(2):
        cb.record_failure(key, t)
    assert cb.state(key, t) == "closed"
    cb.record_failure(key, t)
    assert cb.state(key, t) == "open" and not cb.allow(key, t + 29.9)
    assert cb.allow(("conn", "other-model"), t)  # per connection + model
    # half-open: exactly one probe
    assert cb.state(key, t + 30) == "half_open"
    assert cb.allow(key, t + 30) and not cb.allow(key, t + 30.1)
    cb.record_failure(key, t + 31)  # probe failed: open for a full cooldown again
    assert cb.state(key, t + 31) == "open" and not cb.allow(key, t + 60)
    assert cb.allow(key, t + 61)  # next probe
    cb.record_success(key, t + 62)
    assert cb.state(key, t + 62) == "closed" and cb.allow(key, t + 62) and cb.allow(key, t + 62)


def test_stale_probe_is_replaced_and_late_failures_do_not_extend() -> None:
    cb, key = CircuitBreaker(failure_threshold=1, cooldown_s=10), ("c", "m")
    cb.record_failure(key, 0.0)
    cb.record_failure(key, 5.0)  # an in-flight request failing while open: no effect
    assert cb.allow(key, 10.0) and not cb.allow(key, 15.0)
    assert cb.allow(key, 20.0)  # the first probe never reported back
    with pytest.raises(ValueError):
        CircuitBreaker(failure_threshold=0)
