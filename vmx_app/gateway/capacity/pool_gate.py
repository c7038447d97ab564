"""Prioritization at the gate (DESIGN §6): the pool a resource belongs to may use its share of the
connection's minute token capacity, counted like any other limit in the same atomic step.

The gate applies when a pool definition exists, the resource is in a pool and the connection has an
enabled minute token limit T. Every admitted token also lands in a 5-second usage bucket of its pool;
once a second per connection a background task (one per process) reads the last 30 s of buckets and the
stored allocation, runs `allocate`, and stores the result, so every process gates on the same shares.
"""

from __future__ import annotations

import asyncio
import logging
import math
from collections.abc import Callable
from dataclasses import dataclass

import orjson

from vmx_app.gateway.capacity.counters import Counter, CounterGroup, CounterStore, CountersUnavailable
from vmx_app.gateway.capacity.gate import LegContext
from vmx_app.gateway.capacity.pools import WINDOW_S, Allocation, Pool, allocate, pool_of

log = logging.getLogger("vmx.gateway.capacity")
BUCKET_S = 5
REFRESH_S = 1.0
NO_LIMIT = 2**62


@dataclass(frozen=True, slots=True)
class PoolCheck:
    pool: Pool
    capacity_tokens: int
    percent: float
    counters: tuple[Counter, Counter]  # the pool's minute tokens, its usage bucket

    @property
    def limit(self) -> int:
        return self.counters[0].limit

    @property
    def group(self) -> CounterGroup:
        """The counters for the store: their amount is the check's token estimate (slot 1)."""
        return CounterGroup(tuple((c.key, c.fields, c.limit, 1, c.expire_at) for c in self.counters))


def minute_tokens(ctx: LegContext) -> int | None:
    for entry in ctx.connection.capacity:
        if entry.enabled and entry.period == "minute" and entry.tokens and entry.dimension is None:
            return entry.tokens
    return None


class PoolGate:
    def __init__(self, store: CounterStore, prefix: str, wall: Callable[[], float]) -> None:
        self.store = store
        self.prefix = prefix
        self.wall = wall
        self._held: dict[str, tuple[Allocation, float]] = {}  # connection id -> (allocation, fetched at)
        self._refreshing: set[str] = set()
        self._tasks: set[asyncio.Task[None]] = set()

    def _base(self, env_id: str, conn_id: str) -> str:
        return f"{self.prefix}pool:{{{env_id}}}:{conn_id}"

    def check_for(self, ctx: LegContext, now: float) -> PoolCheck | None:
        env = ctx.environment
        if env is None or not env.pools:
            return None
        pools = [Pool.of(p.dump()) for p in env.pools]
        pool = pool_of(pools, ctx.resource.id)
        capacity = minute_tokens(ctx) if pool is not None else None
        if pool is None or capacity is None:
            return None
        allocation = self.allocation(ctx.environment_id, ctx.connection.id, pools, capacity, now)
        percent = allocation.limit_percent(pool)
        base = f"{self._base(ctx.environment_id, ctx.connection.id)}:{pool.name}"
        minute = int(now // 60) * 60
        bucket = int(now // BUCKET_S) * BUCKET_S
        return PoolCheck(pool, capacity, percent, (
            Counter(f"{base}:m:{minute}", ("tokens",), math.floor(capacity * percent / 100),
                    ctx.estimated_tokens, minute + 60.0),
            Counter(f"{base}:b:{bucket}", ("tokens",), NO_LIMIT, ctx.estimated_tokens,
                    bucket + WINDOW_S + 2 * BUCKET_S)))

    def allocation(self, env_id: str, conn_id: str, pools: list[Pool], capacity: int, now: float) -> Allocation:
        """This process's copy, refreshed in the background once it is older than a second."""
        held = self._held.get(conn_id)
        if (held is None or now - held[1] >= REFRESH_S) and conn_id not in self._refreshing:
            self._refreshing.add(conn_id)
            task = asyncio.get_running_loop().create_task(self.refresh(env_id, conn_id, pools, capacity))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)
        return held[0] if held is not None else Allocation()

    async def refresh(self, env_id: str, conn_id: str, pools: list[Pool], capacity: int) -> Allocation | None:
        try:
            now = self.wall()
            base = self._base(env_id, conn_id)
            buckets = [int(now // BUCKET_S) * BUCKET_S - i * BUCKET_S for i in range(int(WINDOW_S // BUCKET_S))]
            values = await self.store.read([(f"{base}:{p.name}:b:{b}", "tokens") for p in pools for b in buckets])
            window = {p.name: sum(values[i * len(buckets):(i + 1) * len(buckets)]) for i, p in enumerate(pools)}
            stored = await self.store.get_text(f"{base}:allocation")
            previous = Allocation.from_json(orjson.loads(stored)) if stored else Allocation()
            allocation = allocate(pools, window, capacity, previous, now)
            await self.store.set_text(f"{base}:allocation", orjson.dumps(allocation.to_json()).decode(), 300)
            self._held[conn_id] = (allocation, now)
            return allocation
        except CountersUnavailable as exc:
            log.warning("pool allocation of connection %s not refreshed: %s", conn_id, exc)
            return None
        finally:
            self._refreshing.discard(conn_id)
