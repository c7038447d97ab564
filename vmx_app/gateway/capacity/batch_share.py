"""Batch work at a lower priority in the capacity gate (issue 14).

A batch item is checked against the same counters as a live request, but every capacity limit (requests
and tokens, at the connection, resource and API-key levels) counts for batch work only up to
`limit × VMX_BATCH_HEADROOM_SHARE`: once usage (live and batch together) reaches that share, batch items
are denied and live traffic keeps the rest. Budgets are not scaled (they are spend, not headroom).

The batch's own `capacity[]` adds limits at the level `batch`, keyed by the batch id, counted like any
other level; a denial there ends the attempt (another model would meet the same batch counters).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from typing import cast

from vmx_app.gateway.capacity.gate import LegContext
from vmx_app.gateway.capacity.limits import Level, Limit, LimitPlan, capacity_key, limit_plan
from vmx_app.gateway.capacity.windows import window_of
from vmx_app.gateway.config import CapacityEntry

BATCH_LEVEL = cast(Level, "batch")


@dataclass(frozen=True, slots=True)
class BatchScope:
    """What the gate knows of a batch item: its batch, and that batch's own limits."""

    id: str
    capacity: tuple[CapacityEntry, ...] = ()


def scaled(limit: int, share: float) -> int:
    """The batch's part of a limit; at least 1, so a small limit does not stall a batch for good."""
    return max(1, math.floor(limit * share))


def batch_limits(scope: BatchScope, now: float) -> list[Limit]:
    out: list[Limit] = []
    name = f"batch {scope.id}"
    for e in scope.capacity:
        if not e.enabled:
            continue
        window = window_of(e.period, now)
        if e.requests:
            out.append(Limit(BATCH_LEVEL, scope.id, name, e.period, "requests", e.requests, window))
        if e.tokens:
            out.append(Limit(BATCH_LEVEL, scope.id, name, e.period, "tokens", e.tokens, window))
    return out


class BatchPlans:
    """Derives a batch item's plan from the live one (same counter keys, smaller limits), reused while
    the live plan and the batch's windows last."""

    def __init__(self, prefix: str, share: float, size: int = 1024) -> None:
        if not 0 < share <= 1:
            raise ValueError("the batch headroom share must be in (0, 1]")
        self.prefix = prefix
        self.share = share
        self.size = size
        self._plans: dict[tuple[int, str], tuple[LimitPlan, LimitPlan]] = {}

    def plan(self, live: LimitPlan, ctx: LegContext, now: float) -> LimitPlan:
        scope = ctx.batch
        assert scope is not None
        hit = self._plans.get((id(live), scope.id))
        if hit is not None and hit[0] is live and now < hit[1].valid_until:
            return fit(hit[1], live, ctx.estimated_tokens)
        limits: list[Limit] = []
        places: list[tuple[str, tuple[str, ...]]] = []
        for lim, place in zip(live.limits, live.places, strict=True):
            if lim.metric != "cost":
                lim = replace(lim, limit=scaled(lim.limit, self.share),
                              entity_name=f"{lim.entity_name} (batch share {self.share:.0%})")
            limits.append(lim)
            places.append(place)
        # The batch's own limits go before the connection's: a denial there is the one to report.
        at = next((i for i, lim in enumerate(limits) if lim.level == "connection"), len(limits))
        own = batch_limits(scope, now)
        limits[at:at] = own
        places[at:at] = [(capacity_key(self.prefix, ctx.environment_id, "batch", lim.entity_id, lim.period,
                                       lim.window.name), (lim.metric,)) for lim in own]
        plan = limit_plan(limits, places, live.has_budget, live.owners)  # valid until the first window ends
        if len(self._plans) >= self.size:
            self._plans.clear()
        self._plans[(id(live), scope.id)] = (live, plan)
        return fit(plan, live, ctx.estimated_tokens)


def fit(plan: LimitPlan, live: LimitPlan, need: int) -> LimitPlan:
    """An item bigger than its share of a shared token limit would wait for ever: it may use the whole
    limit (it then waits only for a window where it fits). The batch's own limits stay as they are
    (submission refuses an item bigger than them)."""
    if not any(lim.metric == "tokens" and lim.limit < need for lim in plan.limits):
        return plan
    whole = dict(zip(live.places, live.limits, strict=True))
    limits = [whole.get(place, lim) if lim.metric == "tokens" and lim.limit < need else lim
              for lim, place in zip(plan.limits, plan.places, strict=True)]
    return limit_plan(limits, list(plan.places), plan.has_budget, plan.owners)
