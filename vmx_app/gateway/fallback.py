"""Which models a request tries, in what order, and when to give up on one (DESIGN §2 step 7, §5).

Pure decisions only: the engine does the calls. Every clock reading is a `now: float` argument
(seconds, monotonic) so tests drive a fake clock.
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

from vmx_app.gateway.config import ModelSlot, ResourceConfig
from vmx_app.gateway.routing import RoutingDecision
from vmx_app.gateway.types import FailureKind

LegKind = Literal["primary", "secondary", "routed", "fallback"]
BreakerState = Literal["closed", "open", "half_open"]

BACKOFF_BASE_S = 0.2
BACKOFF_CAP_S = 8.0
RETRY_AFTER_CAP_S = 30.0


class SecondaryModelIndexError(IndexError, ValueError):
    """`vmx.secondaryModelIndex` points past the resource's secondary models (the API answers 400)."""

    field = "vmx.secondaryModelIndex"


@dataclass(frozen=True)
class Leg:
    slot: ModelSlot
    label: str  # where the slot lives in the resource: `model`, `fallbackModels[1]`, ...
    kind: LegKind


def plan_legs(resource: ResourceConfig, decision: RoutingDecision | None,
              secondary_index: int | None) -> list[Leg]:
    """First leg: the pinned secondary, else the routed model, else the primary; then the fallbacks."""
    if secondary_index is not None:
        count = len(resource.secondary_models)
        if not 0 <= secondary_index < count:
            raise SecondaryModelIndexError(
                f"vmx.secondaryModelIndex {secondary_index} is out of range: the resource has "
                f"{count} secondary model{'s' if count != 1 else ''}")
        legs = [Leg(resource.secondary_models[secondary_index], f"secondaryModels[{secondary_index}]",
                    "secondary")]
    elif decision is not None and decision.block:
        raise ValueError("a request blocked by routing has no legs to plan")
    elif decision is not None and decision.action == "route" and decision.slot is not None:
        legs = [Leg(decision.slot, decision.label or "routing", "routed")]
    else:
        legs = [Leg(resource.model, "model", "primary")]
    if resource.use_fallback:
        legs.extend(Leg(slot, f"fallbackModels[{i}]", "fallback")
                    for i, slot in enumerate(resource.fallback_models))
    return legs


# The provider refusing the connection's credentials or not knowing its model is the operator's
# configuration, not the caller's request: worth the next leg (never a retry of the same one), and
# never passed through as if the caller's own key were wrong.
UPSTREAM_CONFIG_STATUSES = frozenset({401, 403, 404})


def is_fallback_worthy(status: int | None, kind: FailureKind) -> bool:
    """Move on to the next leg? Yes for upstream trouble and the connection's configuration; no for the
    client's own 4xx (it would fail again).

    408 (Request Timeout) counts as a timeout. An HTTP failure without a status counts as upstream trouble.
    """
    if kind in ("timeout", "network", "gate"):
        return True
    if status is None:
        return True
    return status >= 500 or status in (408, 429) or status in UPSTREAM_CONFIG_STATUSES


def is_retryable(status: int | None, kind: FailureKind) -> bool:
    """Retry the same model (its maxRetries)? As fallback, except gate denials (they move on at once) and
    configuration refusals (the same credentials fail the same way)."""
    return kind != "gate" and status not in UPSTREAM_CONFIG_STATUSES and is_fallback_worthy(status, kind)


def backoff_delay(attempt: int, retry_after_s: float | None = None,
                  rand: Callable[[], float] = random.random) -> float:
    """Seconds to wait before retry number `attempt` (0-based).

    Retry-After wins when the upstream sent one (capped at 30 s); otherwise exponential backoff with
    full jitter: uniform in [0, min(8, 0.2 * 2**attempt)).
    """
    if retry_after_s is not None and retry_after_s >= 0 and math.isfinite(retry_after_s):
        return min(retry_after_s, RETRY_AFTER_CAP_S)
    ceiling = min(BACKOFF_CAP_S, BACKOFF_BASE_S * 2 ** min(max(attempt, 0), 16))
    return rand() * ceiling


def deadline_from(timeout_ms: int | None, now: float) -> float | None:
    """Absolute deadline of a request given its `vmx.timeoutMs` (None = no deadline)."""
    return None if timeout_ms is None else now + timeout_ms / 1000


def remaining_budget(deadline: float | None, now: float) -> float:
    """Seconds left before the deadline (never negative; infinite without a deadline)."""
    return math.inf if deadline is None else max(0.0, deadline - now)


def leg_timeout(slot: ModelSlot, deadline: float | None, now: float) -> float | None:
    """A leg's timeout in seconds: its own `timeoutMs` and the request budget, whichever ends first."""
    own = slot.timeout_ms / 1000 if slot.timeout_ms is not None else math.inf
    limit = min(own, remaining_budget(deadline, now))
    return None if math.isinf(limit) else limit


@dataclass
class _Circuit:
    failures: int = 0
    opened_at: float | None = None
    probe_started: float | None = None


class CircuitBreaker:
    """Per (connection id, model): closed -> open after `failure_threshold` consecutive failures;
    after `cooldown_s` half-open lets ONE probe through; its success closes, its failure reopens.

    A probe that never reports (cancelled request) is replaced after another cooldown. Record only
    upstream failures here (see is_retryable): a client 4xx or a gate denial is not the model's fault.
    Single event loop: no locking. Closed circuits without failures are not stored.
    """

    def __init__(self, failure_threshold: int = 5, cooldown_s: float = 30.0) -> None:
        if failure_threshold < 1:
            raise ValueError("failure_threshold must be at least 1")
        self.failure_threshold = failure_threshold
        self.cooldown_s = cooldown_s
        self._circuits: dict[tuple[str, str], _Circuit] = {}

    def state(self, key: tuple[str, str], now: float) -> BreakerState:
        c = self._circuits.get(key)
        if c is None or c.opened_at is None:
            return "closed"
        return "open" if now < c.opened_at + self.cooldown_s else "half_open"

    def states(self, now: float) -> dict[tuple[str, str], BreakerState]:
        """Every circuit that is not plainly closed (for the circuit-breaker gauge)."""
        return {key: self.state(key, now) for key in list(self._circuits)}

    def allow(self, key: tuple[str, str], now: float) -> bool:
        """May a call go to this model now? In half-open state only the first caller gets True."""
        c = self._circuits.get(key)
        if c is None or c.opened_at is None:
            return True
        if now < c.opened_at + self.cooldown_s:
            return False
        if c.probe_started is not None and now < c.probe_started + self.cooldown_s:
            return False  # a probe is in flight
        c.probe_started = now
        return True

    def record_success(self, key: tuple[str, str], now: float) -> None:
        self._circuits.pop(key, None)

    def record_failure(self, key: tuple[str, str], now: float) -> None:
        c = self._circuits.setdefault(key, _Circuit())
        if c.opened_at is not None:
            if c.probe_started is not None:  # the probe failed: open again for a full cooldown
                c.opened_at, c.probe_started = now, None
            return
        c.failures += 1
        if c.failures >= self.failure_threshold:
            c.opened_at = now
