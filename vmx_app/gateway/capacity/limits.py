"""Which limits apply to one attempt, and where they are counted (DESIGN §6, §10). Pure functions.

Capacity: the connection's enabled entries always; the resource's and the API key's when their
`enforceCapacity` is on. Budgets: the environment's, the resource's and the API key's enabled
entries. **[better]** each level has its own counters (the original shared one key for all three).

Hashes: `<prefix>cap:{<env>}:<level>:<entity>[:ip:<ip>]:<period>:<window>` with fields `requests`
and `tokens`, and `<prefix>budget:{<env>}:<level>:<entity>:<period>:<window>` with `reserved` and
`spent` (nano-USD). The hash tag `{<env>}` keeps every key one request touches in one Cluster slot.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from vmx_app.gateway.capacity.counters import CounterGroup
from vmx_app.gateway.capacity.gate import LegContext
from vmx_app.gateway.capacity.windows import Window, window_of

Level = Literal["connection", "resource", "api-key", "environment"]
Metric = Literal["requests", "tokens", "cost"]
NANO_PER_USD = 1_000_000_000
AMOUNT_SLOT = {"requests": 0, "tokens": 1, "cost": 2}  # a check's amounts: (1, token estimate, reserve)


@dataclass(frozen=True, slots=True)
class Limit:
    level: Level
    entity_id: str
    entity_name: str
    period: str
    metric: Metric
    limit: int  # requests, tokens, or nano-USD
    window: Window
    source_ip: str | None = None  # `dimension: source-ip` entries count per client IP

    def describe(self) -> str:
        who = f"{self.level} {self.entity_name!r}"
        per_ip = f" per source IP ({self.source_ip})" if self.source_ip is not None else ""
        if self.metric == "cost":
            return f"{who} has a budget of ${self.limit / NANO_PER_USD:.2f} per {self.period}"
        return f"{who} allows {self.limit} {self.metric} per {self.period}{per_ip}"


BUDGET_FIELDS = ("reserved", "spent")


def capacity_key(prefix: str, env_id: str, level: str, entity_id: str, period: str, window: str,
                 source_ip: str | None = None) -> str:
    ip = f":ip:{source_ip}" if source_ip is not None else ""
    return f"{prefix}cap:{{{env_id}}}:{level}:{entity_id}{ip}:{period}:{window}"


def budget_key(prefix: str, env_id: str, level: str, entity_id: str, period: str, window: str) -> str:
    return f"{prefix}budget:{{{env_id}}}:{level}:{entity_id}:{period}:{window}"


def capacity_limits(ctx: LegContext, now: float) -> list[Limit]:
    """Resource and API-key limits first (a denial there ends the request), the connection's last."""
    sources: list[tuple[Level, str, str, list]] = []  # type: ignore[type-arg]
    res, key, conn = ctx.resource, ctx.api_key, ctx.connection
    if res.enforce_capacity and res.capacity:
        sources.append(("resource", res.id, res.name, res.capacity))
    if key is not None and key.enforce_capacity and key.capacity:
        sources.append(("api-key", key.id, key.name, key.capacity))
    if conn.capacity:
        sources.append(("connection", conn.id, conn.name, conn.capacity))
    out: list[Limit] = []
    for level, entity_id, name, entries in sources:
        for e in entries:
            if not e.enabled or not (e.requests or e.tokens):
                continue
            window = window_of(e.period, now)
            ip = (ctx.source_ip or "unknown") if e.dimension == "source-ip" else None
            if e.requests:
                out.append(Limit(level, entity_id, name, e.period, "requests", e.requests, window, ip))
            if e.tokens:
                out.append(Limit(level, entity_id, name, e.period, "tokens", e.tokens, window, ip))
    return out


def budget_limits(ctx: LegContext, now: float) -> list[Limit]:
    sources = []
    env, res, key = ctx.environment, ctx.resource, ctx.api_key
    if env is not None and env.budgets:
        sources.append(("environment", env.id, env.name, env.budgets))
    if res.budgets:
        sources.append(("resource", res.id, res.name, res.budgets))
    if key is not None and key.budgets:
        sources.append(("api-key", key.id, key.name, key.budgets))
    out: list[Limit] = []
    for level, entity_id, name, entries in sources:
        for b in entries:
            if b.enabled:
                out.append(Limit(level, entity_id, name, b.period, "cost",  # type: ignore[arg-type]
                                 round(b.amount_usd * NANO_PER_USD), window_of(b.period, now)))
    return out


def counted_at(prefix: str, env_id: str, limit: Limit) -> tuple[str, tuple[str, ...]]:
    """(hash key, fields) where `limit` is counted; its amount goes to the first field."""
    if limit.metric == "cost":
        return budget_key(prefix, env_id, limit.level, limit.entity_id, limit.period, limit.window.name), BUDGET_FIELDS
    key = capacity_key(prefix, env_id, limit.level, limit.entity_id, limit.period, limit.window.name, limit.source_ip)
    return key, (limit.metric,)


@dataclass(slots=True)
class LimitPlan:
    """Every limit of one (resource, connection, API key, environment, source IP) and where it is
    counted, reused until the first of its windows ends or a snapshot changes."""

    limits: list[Limit]  # budgets first: their denial must not be hidden by a capacity one
    places: list[tuple[str, tuple[str, ...]]]
    has_budget: bool
    valid_until: float
    owners: tuple[object, ...]
    group: CounterGroup  # the counters, ready for the store
    token_places: tuple[tuple[str, float | None], ...]  # (key, expire_at) settled to the real tokens
    budget_places: tuple[tuple[str, float | None], ...]  # (key, expire_at) settled to the real cost


def limit_plan(limits: list[Limit], places: list[tuple[str, tuple[str, ...]]], has_budget: bool,
               owners: tuple[object, ...]) -> LimitPlan:
    ends = [lim.window.end for lim in limits if lim.window.end is not None]
    pairs = list(zip(limits, places, strict=True))
    group = CounterGroup(tuple((key, fields, lim.limit, AMOUNT_SLOT[lim.metric], lim.window.end)
                               for lim, (key, fields) in pairs))
    return LimitPlan(limits, places, has_budget, min(ends, default=float("inf")), owners, group,
                     tuple((key, lim.window.end) for lim, (key, _) in pairs if lim.metric == "tokens"),
                     tuple((key, lim.window.end) for lim, (key, _) in pairs if lim.metric == "cost"))


def distinct_counters(limits: list[Limit], prefix: str, env_id: str
                      ) -> tuple[list[Limit], list[tuple[str, tuple[str, ...]]]]:
    """Two entries of one entity and period (same dimension) count in the same field: it takes the
    request once, against the tighter limit (else every request would count twice)."""
    tightest: dict[tuple[str, tuple[str, ...]], int] = {}
    places = [counted_at(prefix, env_id, lim) for lim in limits]
    for i, (lim, place) in enumerate(zip(limits, places, strict=True)):
        held = tightest.get(place)
        if held is None or lim.limit < limits[held].limit:
            tightest[place] = i
    keep = sorted(tightest.values())
    return [limits[i] for i in keep], [places[i] for i in keep]


class PlanCache:
    """The hot path builds limit lists and key strings once per window, not once per request."""

    def __init__(self, prefix: str, size: int = 4096) -> None:
        self.prefix = prefix
        self.size = size
        self._plans: dict[tuple[object, ...], LimitPlan] = {}

    def plan(self, ctx: LegContext, now: float) -> LimitPlan:
        res, conn, key, env = ctx.resource, ctx.connection, ctx.api_key, ctx.environment
        ident = (id(res), id(conn), id(key), id(env), ctx.source_ip)
        hit = self._plans.get(ident)
        if hit is not None and now < hit.valid_until:
            held = hit.owners  # ids are reused once a replaced snapshot is collected: compare the objects
            if held[0] is res and held[1] is conn and held[2] is key and held[3] is env:
                return hit
        owners = (res, conn, key, env)
        budgets = budget_limits(ctx, now)
        limits, places = distinct_counters(budgets + capacity_limits(ctx, now), self.prefix, ctx.environment_id)
        plan = limit_plan(limits, places, bool(budgets), owners)
        if len(self._plans) >= self.size:
            self._plans.clear()  # snapshots replaced by config changes leave entries behind: start over
        self._plans[ident] = plan
        return plan
