"""How much batch work one process may send to each AI connection right now (issue 14).

Batch items are background work: they must take only the room live traffic leaves. Per connection
this keeps a concurrency limit that starts at `per_connection`, is halved by every 429 (from the capacity
gate or the provider) while the connection pauses for the Retry-After (else an exponential backoff),
and grows back by one per success (AIMD, as TCP does). `pause` holds a connection's batch work while the
provider says the batch's share of its limit is used (provider_headroom.py); the capacity gate itself
keeps batch items within their share of configured limits (batch_share.py). `set_ceiling` caps a
connection's batch concurrency outright.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Literal

Outcome = Literal["ok", "throttled", "error"]


@dataclass(slots=True)
class _Connection:
    limit: float
    in_flight: int = 0
    paused_until: float = 0.0
    throttled_streak: int = 0
    ceiling: int | None = None
    changed: asyncio.Event = field(default_factory=asyncio.Event)


class HeadroomClosed(Exception):
    """The worker is stopping: an item still waiting for room must not start."""


class BatchHeadroom:
    def __init__(self, per_connection: int, *, clock: Callable[[], float] = time.monotonic,
                 base_backoff_s: float = 0.5, max_backoff_s: float = 30.0) -> None:
        self.per_connection = per_connection
        self._clock = clock
        self._base = base_backoff_s
        self._max = max_backoff_s
        self._conns: dict[str, _Connection] = {}
        self.closed = False

    def _conn(self, key: str) -> _Connection:
        conn = self._conns.get(key)
        if conn is None:
            conn = self._conns[key] = _Connection(float(self.per_connection))
        return conn

    def limit(self, key: str) -> int:
        conn = self._conn(key)
        limit = max(1, int(conn.limit))
        return min(limit, conn.ceiling) if conn.ceiling is not None else limit

    def paused_for(self, key: str) -> float:
        return max(0.0, self._conn(key).paused_until - self._clock())

    def set_ceiling(self, key: str, ceiling: int | None) -> None:
        """At most `ceiling` batch items at once on this connection (None: no cap; 0: none at all)."""
        conn = self._conn(key)
        conn.ceiling = ceiling
        conn.changed.set()

    def close(self) -> None:
        """Every waiting (and later) `acquire` raises HeadroomClosed; items already running go on."""
        self.closed = True
        for conn in self._conns.values():
            conn.changed.set()

    def pause(self, key: str, seconds: float) -> None:
        """No new batch item on this connection for `seconds` (the provider says its share is used)."""
        conn = self._conn(key)
        conn.paused_until = max(conn.paused_until, self._clock() + min(self._max, seconds))
        conn.changed.set()

    async def acquire(self, key: str, within_s: float | None = None) -> bool:
        """Wait until the connection has room for one more batch item, then take it (True); False when
        `within_s` passed without room, so the caller can look again at whether the item should still run."""
        conn = self._conn(key)
        give_up = None if within_s is None else self._clock() + within_s
        while True:
            if self.closed:
                raise HeadroomClosed
            now = self._clock()
            wait = conn.paused_until - now
            if wait <= 0 and conn.in_flight < self.limit(key):
                conn.in_flight += 1
                return True
            if give_up is not None and now >= give_up:
                return False
            conn.changed.clear()
            timeout = wait if wait > 0 else None
            if give_up is not None:
                timeout = give_up - now if timeout is None else min(timeout, give_up - now)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(conn.changed.wait(), timeout)

    def release(self, key: str, outcome: Outcome, retry_after_s: float | None = None) -> None:
        conn = self._conn(key)
        conn.in_flight = max(0, conn.in_flight - 1)
        if outcome == "throttled":
            conn.throttled_streak += 1
            conn.limit = max(1.0, conn.limit / 2)
            backoff = retry_after_s if retry_after_s is not None else \
                self._base * (2 ** (conn.throttled_streak - 1))
            conn.paused_until = max(conn.paused_until, self._clock() + min(self._max, backoff))
        elif outcome == "ok":
            conn.throttled_streak = 0
            conn.limit = min(float(self.per_connection), conn.limit + 1)
        conn.changed.set()
