"""Counters behind capacity and budgets: check every limit and take from all of them at once, or from
none (DESIGN §2 step 5). `MemoryCounters` is the embedded profile's in-process store; the Redis one
(`redis_counters.py`) does the same in one Lua script.

A counter is a field of a hash: one hash per limited entity and window, with the fields `requests` and
`tokens` (capacity) or `reserved` and `spent` (budgets, nano-USD), so one key carries both numbers of
a window and its expiry.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Protocol


class CountersUnavailable(Exception):
    """The shared store cannot be reached (Redis down): the gate applies CAPACITY_ON_REDIS_ERROR."""


@dataclass(slots=True)
class Counter:
    """One limit of one check: the sum of `fields` of `key` plus `amount` must stay within `limit`; the
    amount is added to the first field. Budgets pass (reserved, spent): both count against the amount."""

    key: str
    fields: tuple[str, ...]
    limit: int
    amount: int
    expire_at: float | None  # epoch seconds (the window's end); None: kept (lifetime)


# (key, fields, limit, amount slot, expire_at): a counter whose amount is the check's `amounts[slot]`
Slot = tuple[str, tuple[str, ...], int, int, "float | None"]


@dataclass(slots=True, eq=False)
class CounterGroup:
    """Counters fixed for a while (a limit plan's: until a window ends or a snapshot changes) whose
    amounts come from the check: the hot path then builds nothing per counter, and a store may keep
    the group's encoded form in `wire` (built on first use)."""

    items: tuple[Slot, ...]
    wire: object = None


def group_of(counters: Sequence[Counter]) -> tuple[CounterGroup, list[int]]:
    """Explicit counters as a group and its amounts (one slot each)."""
    items = tuple((c.key, c.fields, c.limit, i, c.expire_at) for i, c in enumerate(counters))
    return CounterGroup(items), [c.amount for c in counters]


@dataclass(frozen=True, slots=True)
class Adjustment:
    key: str
    field: str
    delta: int
    expire_at: float | None


@dataclass(slots=True)
class TakeResult:
    ok: bool
    denied: int = -1  # index of the counter that refused
    values: list[int] = field(default_factory=list)  # ok: each counter's sum after taking; else [sum seen]


class CounterStore(Protocol):
    async def take(self, counters: Sequence[Counter]) -> TakeResult: ...

    async def take_groups(self, groups: Sequence[CounterGroup], amounts: Sequence[int]) -> TakeResult:
        """`take` of the groups' counters in order, each taking `amounts[slot]`."""
        ...

    async def adjust(self, adjustments: Sequence[Adjustment]) -> None:
        """Corrections after the call. A key that is gone (its window ended) is not recreated."""
        ...

    async def read(self, fields: Sequence[tuple[str, str]]) -> list[int]:
        """The values of (key, field) pairs, 0 when absent."""
        ...

    async def get_text(self, key: str) -> str | None:
        """Shared state other than counters (the pools' allocation), off the hot path."""
        ...

    async def set_text(self, key: str, value: str, ttl_s: int) -> None: ...


class MemoryCounters:
    """In-process counters (embedded profile: one process). Atomic because nothing here awaits."""

    def __init__(self, wall: Callable[[], float] = time.time) -> None:
        self._hashes: dict[str, tuple[dict[str, int], float | None]] = {}
        self._texts: dict[str, tuple[str, float]] = {}
        self._wall = wall
        self._next_sweep = 0.0

    def _hash(self, key: str, now: float) -> dict[str, int] | None:
        hit = self._hashes.get(key)
        if hit is None:
            return None
        if hit[1] is not None and hit[1] <= now:
            del self._hashes[key]
            return None
        return hit[0]

    def _sweep(self, now: float) -> None:
        """Ended windows are dropped once a minute, so idle keys do not pile up."""
        if now < self._next_sweep:
            return
        self._next_sweep = now + 60.0
        for key in [k for k, (_, e) in self._hashes.items() if e is not None and e <= now]:
            del self._hashes[key]

    def _sum(self, key: str, fields: tuple[str, ...], now: float) -> int:
        values = self._hash(key, now)
        return 0 if values is None else sum(values.get(f, 0) for f in fields)

    async def take(self, counters: Sequence[Counter]) -> TakeResult:
        group, amounts = group_of(counters)
        return await self.take_groups((group,), amounts)

    async def take_groups(self, groups: Sequence[CounterGroup], amounts: Sequence[int]) -> TakeResult:
        now = self._wall()
        self._sweep(now)
        items = [item for g in groups for item in g.items]
        for i, (key, fields, limit, slot, _) in enumerate(items):
            seen = self._sum(key, fields, now)
            if seen + amounts[slot] > limit:
                return TakeResult(False, i, [seen])
        for key, fields, _, slot, expire_at in items:
            values = self._hash(key, now)
            if values is None:
                values = {}
            self._hashes[key] = (values, expire_at)
            values[fields[0]] = values.get(fields[0], 0) + amounts[slot]
        return TakeResult(True, -1, [self._sum(key, fields, now) for key, fields, *_ in items])

    async def adjust(self, adjustments: Sequence[Adjustment]) -> None:
        now = self._wall()
        for a in adjustments:
            values = self._hash(a.key, now)
            if values is not None:
                values[a.field] = values.get(a.field, 0) + a.delta

    async def read(self, fields: Sequence[tuple[str, str]]) -> list[int]:
        now = self._wall()
        out = []
        for key, name in fields:
            values = self._hash(key, now)
            out.append(0 if values is None else values.get(name, 0))
        return out

    async def get_text(self, key: str) -> str | None:
        hit = self._texts.get(key)
        return None if hit is None or hit[1] <= self._wall() else hit[0]

    async def set_text(self, key: str, value: str, ttl_s: int) -> None:
        self._texts[key] = (value, self._wall() + ttl_s)
