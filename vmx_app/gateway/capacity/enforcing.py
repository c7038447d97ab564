"""The gate that counts: capacity (requests, tokens) and spend budgets, checked and taken in one
atomic step before every provider attempt, corrected after it (DESIGN §6, §10).

- Capacity takes requests +1 and the input-token estimate; settlement corrects tokens to the real
  usage; a failed attempt gives its tokens back but keeps its request (the provider saw it).
- Budgets reserve the worst-case cost (input estimate × input price + max output × output price);
  settlement replaces the reservation with the real cost; a failure releases it.
- Corrections are batched (one Redis call per environment every few milliseconds), so a request
  costs one round trip on its way in and none on its way out.
- Redis unreachable: CAPACITY_ON_REDIS_ERROR decides (allow or deny), each decision is counted and
  logged once per interval, and Redis is tried again after a short pause: enforcement resumes by itself.
"""

from __future__ import annotations

import asyncio
import logging
import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

from vmx_app.gateway.capacity.batch_share import BatchPlans
from vmx_app.gateway.capacity.counters import Adjustment, CounterStore, CountersUnavailable
from vmx_app.gateway.capacity.gate import ALLOWED, GateResult, LegContext
from vmx_app.gateway.capacity.limits import NANO_PER_USD, Limit, PlanCache
from vmx_app.gateway.capacity.pool_gate import PoolCheck, PoolGate
from vmx_app.gateway.capacity.windows import duration_text
from vmx_app.gateway.errors import GateHold
from vmx_app.gateway.types import Usage

NEVER_FITS = "more than the whole limit"  # a request no window of the limit can ever hold
log = logging.getLogger("vmx.gateway.capacity")

PriceFn = Callable[[str, str], "tuple[float, float] | None"]  # (provider, model) -> USD per 1M in, out
CostFn = Callable[[str, str, Usage], "float | None"]  # real cost in USD; None when the model has no price
SETTLE_DELAY_S = 0.02
STORE_RETRY_S = 0.5
PRICE_TTL_S = 10.0


@dataclass(slots=True)
class Reservation:
    tokens: tuple[tuple[str, float | None], ...] = ()  # (hash key, expire_at)
    estimate: int = 0
    budgets: tuple[tuple[str, float | None], ...] = ()  # (hash key, expire_at)
    reserved_nano: int = 0


class CapacityGate:
    def __init__(self, store: CounterStore, *, prefix: str = "", on_store_error: Literal["allow", "deny"] = "allow",
                 price_of: PriceFn | None = None, cost_of: CostFn | None = None, default_max_output: int = 4096,
                 wall: Callable[[], float] = time.time, error_log_interval_s: float = 60.0,
                 batch_share: float = 0.5) -> None:
        self.store = store
        self.prefix = prefix
        self.plans = PlanCache(prefix)
        self.batch_plans = BatchPlans(prefix, batch_share)
        self.pools = PoolGate(store, prefix, wall)
        self.on_store_error = on_store_error
        self.price_of = price_of or (lambda _p, _m: None)
        self.cost_of = cost_of or (lambda _p, _m, _u: None)
        self.default_max_output = default_max_output
        self.wall = wall
        self.error_log_interval_s = error_log_interval_s
        self.store_error_decisions = 0  # requests decided by CAPACITY_ON_REDIS_ERROR (tests, metrics)
        self._errors_since_log = 0
        self._next_error_log = 0.0
        self._store_down_until = 0.0
        self._unpriced: set[tuple[str, str]] = set()
        self._prices: dict[tuple[str, str], tuple[tuple[float, float] | None, float]] = {}
        # corrections not sent yet, per reservation shape: token delta; [reserved delta, spent delta]
        self._pending_tokens: dict[tuple[tuple[str, float | None], ...], int] = {}
        self._pending_budgets: dict[tuple[tuple[str, float | None], ...], list[int]] = {}
        self._flush: asyncio.TimerHandle | None = None
        self._tasks: set[asyncio.Task[None]] = set()

    # ---- check ------------------------------------------------------------------------------------

    async def check(self, ctx: LegContext) -> GateResult:
        now = self.wall()
        plan = self.plans.plan(ctx, now)
        if ctx.batch is not None:  # batch work: only its share of each limit, plus its own (batch_share.py)
            plan = self.batch_plans.plan(plan, ctx, now)
        pool = self.pools.check_for(ctx, now)
        if not plan.limits and pool is None:
            return ALLOWED
        reserve = self._worst_case_nano(ctx, now) if plan.has_budget else 0
        amounts = (1, ctx.estimated_tokens, reserve)  # the slots of limits.AMOUNT_SLOT
        if now < self._store_down_until:
            return self._store_error(now, "counters unavailable")
        try:
            taken = await self.store.take_groups((plan.group,) if pool is None else (plan.group, pool.group),
                                                 amounts)
        except CountersUnavailable as exc:
            self._store_down_until = now + STORE_RETRY_S
            return self._store_error(now, str(exc))
        if not taken.ok:
            if taken.denied >= len(plan.limits):
                assert pool is not None
                return prioritization_denied(ctx, pool, taken.values[0], now)
            key, fields, _, slot, _ = plan.group.items[taken.denied]
            return await self._denied(plan.limits[taken.denied], key, fields, amounts[slot], taken.values[0], now)
        tokens, values = plan.token_places, taken.values
        if pool is not None:
            tokens += tuple((c.key, c.expire_at) for c in pool.counters)
            values = values[:len(plan.limits)]
        res = Reservation(tokens, ctx.estimated_tokens, plan.budget_places, reserve)
        headers = rate_headers(plan.limits, values, now) if plan.limits else None
        return GateResult(reservation=res, headers=headers)

    def _price(self, provider: str, model: str, now: float) -> tuple[float, float] | None:
        """The catalog's price, looked up at most every PRICE_TTL_S per model (the lookup normalizes names)."""
        hit = self._prices.get((provider, model))
        if hit is None or hit[1] <= now:
            hit = (self.price_of(provider, model), now + PRICE_TTL_S)
            self._prices[(provider, model)] = hit
        return hit[0]

    def _worst_case_nano(self, ctx: LegContext, now: float) -> int:
        price = self._price(ctx.connection.provider, ctx.slot.model, now)
        if price is None:
            self._flag_unpriced(ctx.connection.provider, ctx.slot.model)
            return 0
        max_out = ctx.max_output_tokens or self.default_max_output
        usd = (ctx.estimated_tokens * price[0] + max_out * price[1]) / 1_000_000
        return math.ceil(usd * NANO_PER_USD)

    def _flag_unpriced(self, provider: str, model: str) -> None:
        if (provider, model) not in self._unpriced:
            self._unpriced.add((provider, model))
            log.warning("no pricing entry for %s/%s: its requests count as cost 0 against budgets", provider, model)

    async def _denied(self, lim: Limit, key: str, fields: tuple[str, ...], amount: int, seen: int,
                      now: float) -> GateResult:
        left = lim.window.seconds_left(now)
        retry = math.ceil(left) if left is not None else None
        headers = {"retry-after": str(max(1, retry))} if retry is not None else {}
        if lim.metric == "cost":
            try:
                reserved, spent = await self.store.read([(key, f) for f in fields])
            except CountersUnavailable:
                reserved, spent = seen, 0
            message = (f"budget exceeded: {lim.describe()}; spent ${spent / NANO_PER_USD:.6f}, reserved "
                       f"${reserved / NANO_PER_USD:.6f}, this request needs up to ${amount / NANO_PER_USD:.6f}")
            return GateResult(False, "budget_exceeded", message, retry, status=429, error_type="insufficient_quota",
                              fallback=False, headers=headers)
        need = f", this request needs ~{amount}" if lim.metric == "tokens" else ""
        never_fits = lim.metric == "tokens" and amount > lim.limit  # waiting for the next window cannot help
        if never_fits:
            need += f" ({NEVER_FITS}: shorten it or raise the limit)"
        message = f"capacity exhausted: {lim.describe()}; {seen} used{need}"
        headers.update(rate_headers([lim], [seen], now))
        return GateResult(False, "resource_exhausted", message, retry, status=429, error_type="rate_limit_error",
                          fallback=lim.level == "connection", headers=headers,
                          hold=GateHold(lim.level, never_fits=never_fits))

    def _store_error(self, now: float, detail: str) -> GateResult:
        self.store_error_decisions += 1
        self._log_store_error(now, detail)
        if self.on_store_error == "allow":
            return ALLOWED
        return GateResult(False, "capacity_unavailable", "capacity counters are unavailable; try again shortly",
                          1.0, status=503, error_type="service_unavailable", fallback=False,
                          headers={"retry-after": "1"})

    def _log_store_error(self, now: float, detail: str) -> None:
        """Once per interval, however many requests it concerns."""
        self._errors_since_log += 1
        if now >= self._next_error_log:
            log.error("capacity counters unavailable (%s): %d request(s) %s by CAPACITY_ON_REDIS_ERROR=%s "
                      "in the last %.0fs", detail, self._errors_since_log,
                      "allowed" if self.on_store_error == "allow" else "denied", self.on_store_error,
                      self.error_log_interval_s)
            self._errors_since_log = 0
            self._next_error_log = now + self.error_log_interval_s

    # ---- settle -----------------------------------------------------------------------------------

    async def settle(self, ctx: LegContext, result: GateResult, usage: Usage | None, *, failed: bool) -> None:
        """Corrections add up per reservation shape (the plan's keys) until the next flush: O(1) here."""
        res = result.reservation
        if not isinstance(res, Reservation):
            return
        queued = False
        if res.tokens:
            delta = -res.estimate if failed else (usage.total - res.estimate if usage is not None else 0)
            if delta:
                self._pending_tokens[res.tokens] = self._pending_tokens.get(res.tokens, 0) + delta
                queued = True
        if res.budgets:
            if failed:
                spent = 0
            elif usage is not None:
                spent = self._real_nano(ctx, usage)
            else:  # answered without usage: the worst case stays charged
                spent = res.reserved_nano
            held = self._pending_budgets.get(res.budgets)
            if held is None:
                self._pending_budgets[res.budgets] = [-res.reserved_nano, spent]
            else:
                held[0] -= res.reserved_nano
                held[1] += spent
            queued = True
        if queued and self._flush is None:
            self._flush = asyncio.get_running_loop().call_later(SETTLE_DELAY_S, self._start_flush)

    def _real_nano(self, ctx: LegContext, usage: Usage) -> int:
        usd = self.cost_of(ctx.connection.provider, ctx.slot.model, usage)
        return 0 if usd is None else math.ceil(usd * NANO_PER_USD)

    def _start_flush(self) -> None:
        task = asyncio.get_running_loop().create_task(self.flush())
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def flush(self) -> None:
        """Send the queued corrections, one call per environment (its keys share one Cluster slot)."""
        if self._flush is not None:
            self._flush.cancel()
            self._flush = None
        tokens, budgets = self._pending_tokens, self._pending_budgets
        self._pending_tokens, self._pending_budgets = {}, {}
        pending: dict[tuple[str, str], tuple[int, float | None]] = {}
        for places, delta in tokens.items():
            for key, expire_at in places:
                held = pending.get((key, "tokens"))
                pending[(key, "tokens")] = (delta + (held[0] if held else 0), expire_at)
        for places, (reserved, spent) in budgets.items():
            for key, expire_at in places:
                for name, delta in (("reserved", reserved), ("spent", spent)):
                    held = pending.get((key, name))
                    pending[(key, name)] = (delta + (held[0] if held else 0), expire_at)
        by_slot: dict[str, list[Adjustment]] = {}
        for (key, name), (delta, expire_at) in pending.items():
            if delta:
                tag = key[key.index("{"):key.index("}") + 1]
                by_slot.setdefault(tag, []).append(Adjustment(key, name, delta, expire_at))
        for adjustments in by_slot.values():
            try:
                await self.store.adjust(adjustments)
            except CountersUnavailable as exc:
                self._log_store_error(self.wall(), f"correction dropped: {exc}")


def prioritization_denied(ctx: LegContext, check: PoolCheck, seen: int, now: float) -> GateResult:
    retry = math.ceil(60 - now % 60)
    message = (f"prioritization: pool {check.pool.name!r} may use {check.percent:g} % of connection "
               f"{ctx.connection.name!r}'s {check.capacity_tokens} tokens per minute ({check.limit}); {seen} used, "
               f"this request needs ~{ctx.estimated_tokens}")
    return GateResult(False, "prioritization_gate_denied", message, retry, status=429, error_type="rate_limit_error",
                      fallback=True, headers={"retry-after": str(max(1, retry))}, hold=GateHold("pool"))


_HEADERS = {m: (f"x-ratelimit-limit-{m}", f"x-ratelimit-remaining-{m}", f"x-ratelimit-reset-{m}")
            for m in ("requests", "tokens")}
_RESET_TEXT: dict[int, str] = {}


def _reset_text(left: float) -> str:
    """duration_text, kept per whole second (every request of a second shares it)."""
    if left < 1:
        return duration_text(left)
    whole = int(round(left))
    text = _RESET_TEXT.get(whole)
    if text is None:
        if len(_RESET_TEXT) > 4096:
            _RESET_TEXT.clear()
        text = _RESET_TEXT[whole] = duration_text(left)
    return text


def rate_headers(limits: list[Limit], values: list[int], now: float) -> dict[str, str]:
    """The six `x-ratelimit-*` headers of the tightest request and token limits (least remaining)."""
    best: dict[str, tuple[int, Limit]] = {}
    for lim, value in zip(limits, values, strict=True):
        metric = lim.metric
        if metric == "cost":
            continue
        remaining = lim.limit - value
        if remaining < 0:
            remaining = 0
        held = best.get(metric)
        if held is None or remaining < held[0]:
            best[metric] = (remaining, lim)
    headers: dict[str, str] = {}
    for metric, (remaining, lim) in best.items():
        names = _HEADERS[metric]
        headers[names[0]] = str(lim.limit)
        headers[names[1]] = str(remaining)
        if lim.window.end is not None:
            headers[names[2]] = _reset_text(max(0.0, lim.window.end - now))
    return headers
