"""Counters behind capacity and budgets: check every limit and take from all of them at once, or from
none (DESIGN §2 step 5). `MemoryCounters` is the embedded profile's in-process store; the Redis one
(`redis_counters.py`) does the same in one Lua script. Both see only keys and integers: requests,
tokens and cost in nano-USD."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Protocol


class CountersUnavailable(Exception):
    """The shared store cannot be reached (Redis down): the gate applies CAPACITY_ON_REDIS_ERROR."""


@dataclass(frozen=True, slots=True)
class Counter:
    """One limit of one check. The sum of `keys` plus `amount` must stay within `limit` (> 0); the
    amount is added to the first key. Budgets pass (reserved, spent): both count against the amount."""

    keys: tuple[str, ...]
    limit: int
    amount: int
    expire_at: float | None  # epoch seconds (the window's end); None: kept (lifetime)


@dataclass(frozen=True, slots=True)
class Adjustment:
    key: str
    delta: int
    expire_at: float | None


@dataclass(slots=True)
class TakeResult:
    ok: bool
    denied: int = -1  # index of the counter that refused
    values: list[int] = field(default_factory=list)  # ok: each counter's sum after taking; else [sum seen]


class CounterStore(Protocol):
    async def take(self, counters: Sequence[Counter]) -> TakeResult: ...

    async def adjust(self, adjustments: Sequence[Adjustment]) -> None:
        """Corrections after the call. A negative delta on a key that is gone (its window ended) is
        dropped instead of creating a negative counter."""
        ...

    async def read(self, keys: Sequence[str]) -> list[int]: ...


class MemoryCounters:
    """In-process counters (embedded profile: one process). Atomic because nothing here awaits."""

    def __init__(self, wall: Callable[[], float] = time.time) -> None:
        self._values: dict[str, tuple[int, float | None]] = {}
        self._wall = wall
        self._next_sweep = 0.0

    def _get(self, key: str, now: float) -> int:
        hit = self._values.get(key)
        if hit is None:
            return 0
        value, expire_at = hit
        if expire_at is not None and expire_at <= now:
            del self._values[key]
            return 0
        return value

    def _add(self, key: str, delta: int, expire_at: float | None, now: float) -> int:
        value = self._get(key, now) + delta
        self._values[key] = (value, expire_at)
        return value

    def _sweep(self, now: float) -> None:
        """Ended windows are dropped once a minute, so idle keys do not pile up."""
        if now < self._next_sweep:
            return
        self._next_sweep = now + 60.0
        for key in [k for k, (_, e) in self._values.items() if e is not None and e <= now]:
            del self._values[key]

    async def take(self, counters: Sequence[Counter]) -> TakeResult:
        now = self._wall()
        self._sweep(now)
        for i, c in enumerate(counters):
            seen = sum(self._get(k, now) for k in c.keys)
            if seen + c.amount > c.limit:
                return TakeResult(False, i, [seen])
        values = []
        for c in counters:
            self._add(c.keys[0], c.amount, c.expire_at, now)
            values.append(sum(self._get(k, now) for k in c.keys))
        return TakeResult(True, -1, values)

    async def adjust(self, adjustments: Sequence[Adjustment]) -> None:
        now = self._wall()
        for a in adjustments:
            self._get(a.key, now)  # drops the key when its window has ended
            if a.delta < 0 and a.key not in self._values:
                continue
            self._add(a.key, a.delta, a.expire_at, now)

    async def read(self, keys: Sequence[str]) -> list[int]:
        now = self._wall()
        return [self._get(k, now) for k in keys]
