"""The counters in Redis: one Lua script checks every limit of a request and takes from all of them,
or from none, in one round trip (DESIGN §2 step 5). Every key of one check carries the same hash tag
(`{<environment id>}`), so on Redis Cluster they live in one slot and the script may touch them all.

Any Redis failure (down, timeout) becomes `CountersUnavailable`; the gate decides what that means.
"""

from __future__ import annotations

import asyncio
import math
from collections.abc import Sequence
from typing import Any

from vmx_app.gateway.capacity.counters import Adjustment, Counter, CountersUnavailable, TakeResult

# KEYS: every counter's keys, in order. ARGV: n, then per counter: nkeys, limit, amount, expire_at (0: none).
# Returns {1, sum1, sum2, ...} after taking, or {0, index (1-based), sum seen}.
TAKE = """
local n = tonumber(ARGV[1])
local k = 1
local a = 2
for i = 1, n do
  local nkeys, limit, amount = tonumber(ARGV[a]), tonumber(ARGV[a + 1]), tonumber(ARGV[a + 2])
  local seen = 0
  for j = 0, nkeys - 1 do seen = seen + tonumber(redis.call('GET', KEYS[k + j]) or '0') end
  if seen + amount > limit then return {0, i, seen} end
  k = k + nkeys
  a = a + 4
end
local out = {1}
k = 1
a = 2
for i = 1, n do
  local nkeys, amount, expire_at = tonumber(ARGV[a]), tonumber(ARGV[a + 2]), tonumber(ARGV[a + 3])
  local first = redis.call('INCRBY', KEYS[k], amount)
  if expire_at > 0 then redis.call('EXPIREAT', KEYS[k], expire_at) end
  local seen = first
  for j = 1, nkeys - 1 do seen = seen + tonumber(redis.call('GET', KEYS[k + j]) or '0') end
  out[i + 1] = seen
  k = k + nkeys
  a = a + 4
end
return out
"""

# KEYS: the keys to correct. ARGV: per key: delta, expire_at. A negative delta on a vanished key is dropped.
ADJUST = """
for i = 1, #KEYS do
  local delta, expire_at = tonumber(ARGV[2 * i - 1]), tonumber(ARGV[2 * i])
  if delta > 0 or redis.call('EXISTS', KEYS[i]) == 1 then
    redis.call('INCRBY', KEYS[i], delta)
    if expire_at > 0 then redis.call('EXPIREAT', KEYS[i], expire_at) end
  end
end
return 1
"""

_FAILURES = (OSError, asyncio.TimeoutError)


def _expire_arg(expire_at: float | None) -> int:
    return 0 if expire_at is None else math.ceil(expire_at)


class RedisCounters:
    def __init__(self, redis: Any, timeout_s: float = 1.0) -> None:
        from redis.exceptions import RedisError  # the gateway imports redis only when it is configured

        self._redis = redis
        self._take = redis.register_script(TAKE)
        self._adjust = redis.register_script(ADJUST)
        self._timeout_s = timeout_s
        self._failures: tuple[type[BaseException], ...] = (*_FAILURES, RedisError)

    async def _run(self, coro: Any) -> Any:
        try:
            async with asyncio.timeout(self._timeout_s):
                return await coro
        except self._failures as exc:
            raise CountersUnavailable(f"{type(exc).__name__}: {exc}") from exc

    async def take(self, counters: Sequence[Counter]) -> TakeResult:
        keys: list[str] = []
        args: list[int] = [len(counters)]
        for c in counters:
            keys.extend(c.keys)
            args += [len(c.keys), c.limit, c.amount, _expire_arg(c.expire_at)]
        answer = await self._run(self._take(keys=keys, args=args))
        if int(answer[0]) == 1:
            return TakeResult(True, -1, [int(v) for v in answer[1:]])
        return TakeResult(False, int(answer[1]) - 1, [int(answer[2])])

    async def adjust(self, adjustments: Sequence[Adjustment]) -> None:
        if not adjustments:
            return
        args: list[int] = []
        for a in adjustments:
            args += [a.delta, _expire_arg(a.expire_at)]
        await self._run(self._adjust(keys=[a.key for a in adjustments], args=args))

    async def read(self, keys: Sequence[str]) -> list[int]:
        if not keys:
            return []
        values = await self._run(self._redis.mget(list(keys)))
        return [int(v) if v is not None else 0 for v in values]
