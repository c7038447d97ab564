"""Prioritization pools (DESIGN §6): how a connection's minute token capacity is shared between pools
of resources. `allocate` is a pure function of (definition, recent usage, previous allocation, clock).

Each pool's share (percent of the capacity) is decided every tick:
- an active pool (tokens in the last 30 s) is entitled to its `minReservation`; an idle one to
  nothing, so its share is lent to the others, and it gets it back on the tick after it is active again;
- a pool wants twice its recent rate (it grows once it uses more than half of its share, shrinks
  when it uses less), within its maximum;
- a share only shrinks 5 s after it last grew (cooldown), unless a higher-ranked pool needs it;
- shares are handed out by rank (1 first): every active pool's minimum first, then the wants, so a
  higher-ranked pool reclaims from lower ones down to their minimum, never the other way round.
**[better]** The original ignored `rank` (array order), computed the free share once before its loop
and let a pool above its maximum fall to 0 on shrink.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

WINDOW_S = 30.0
COOLDOWN_S = 5.0  # a share shrinks no sooner than this after it last grew


@dataclass(frozen=True, slots=True)
class Pool:
    name: str
    rank: int
    min_reservation: float
    max_reservation: float
    resources: tuple[str, ...] = ()

    @classmethod
    def of(cls, entry: dict[str, Any]) -> Pool:
        return cls(str(entry["name"]), int(entry.get("rank", 0)), float(entry.get("minReservation", 0)),
                   float(entry.get("maxReservation", 100)), tuple(entry.get("resources", [])))


@dataclass(frozen=True, slots=True)
class Share:
    current: float  # percent of the connection's minute token capacity
    grew_at: float | None = None  # when it last grew (the shrink cooldown counts from there)


@dataclass(frozen=True, slots=True)
class Allocation:
    shares: dict[str, Share] = field(default_factory=dict)
    at: float = 0.0

    def percent(self, pool: Pool) -> float:
        """The pool's share; a pool the allocation has not seen yet starts at its minimum."""
        share = self.shares.get(pool.name)
        return pool.min_reservation if share is None else share.current

    def limit_percent(self, pool: Pool) -> float:
        """What the gate lets a requesting pool use: a pool that comes back from idle is entitled to its
        minimum at once (the next tick takes it back from lower-ranked pools)."""
        return max(self.percent(pool), pool.min_reservation)

    def to_json(self) -> dict[str, Any]:
        return {"at": self.at, "shares": {n: {"current": s.current, "grewAt": s.grew_at}
                                          for n, s in self.shares.items()}}

    @classmethod
    def from_json(cls, data: dict[str, Any] | None) -> Allocation:
        if not data:
            return cls()
        return cls({n: Share(float(s["current"]), s.get("grewAt")) for n, s in data.get("shares", {}).items()},
                   float(data.get("at", 0.0)))


def allocate(pools: list[Pool], window_tokens: dict[str, int], capacity_tokens: int, previous: Allocation,
             now: float) -> Allocation:
    """`window_tokens`: tokens each pool used in the last WINDOW_S seconds; `capacity_tokens`: the
    connection's minute token limit."""
    order = sorted(pools, key=lambda p: p.rank)
    wants: dict[str, float] = {}
    floors: dict[str, float] = {}
    for pool in order:
        rate = 100.0 * window_tokens.get(pool.name, 0) * (60.0 / WINDOW_S) / max(capacity_tokens, 1)
        active = window_tokens.get(pool.name, 0) > 0
        floors[pool.name] = pool.min_reservation if active else 0.0
        before = previous.percent(pool) if active or pool.name in previous.shares else 0.0
        want = min(pool.max_reservation, max(floors[pool.name], 2.0 * rate)) if active else 0.0
        if want < before:  # below half its share in use: shrink, once the cooldown after growing is over
            grew_at = previous.shares[pool.name].grew_at if pool.name in previous.shares else None
            if grew_at is not None and now - grew_at < COOLDOWN_S:
                want = min(before, pool.max_reservation)
        wants[pool.name] = want
    free = 100.0
    given: dict[str, float] = {}
    for pool in order:  # every active pool's minimum first, by rank
        given[pool.name] = min(floors[pool.name], free)
        free -= given[pool.name]
    for pool in order:  # then what each wants beyond it, by rank
        extra = min(max(0.0, wants[pool.name] - given[pool.name]), free)
        given[pool.name] += extra
        free -= extra
    shares = {}
    for pool in order:
        old = previous.shares.get(pool.name)
        grew = old is None or given[pool.name] > old.current + 1e-9
        shares[pool.name] = Share(round(given[pool.name], 6), now if grew and given[pool.name] > 0 else
                                  (old.grew_at if old is not None else None))
    return Allocation(shares, now)


def pool_of(pools: list[Pool], resource_id: str) -> Pool | None:
    return next((p for p in pools if resource_id in p.resources), None)
