"""The counters in Redis: one Lua script checks every limit of a request and takes from all of them,
or from none, in one round trip (DESIGN §2 step 5). Every key of one check carries the same hash tag
(`{<environment id>}`), so on Redis Cluster they live in one slot and the script may touch them all.

The counters' description travels as one string argument (few arguments to encode on the hot path).
Any Redis failure (down, timeout) becomes `CountersUnavailable`; the gate decides what that means.
"""

from __future__ import annotations

import asyncio
import hashlib
import math
from collections.abc import Sequence
from typing import Any

import hiredis

from vmx_app.gateway.capacity.counters import Adjustment, Counter, CountersUnavailable, TakeResult
from vmx_app.gateway.capacity.resp_channel import RespChannel

# KEYS: the distinct hashes. ARGV[1]: per counter "keyindex field[+field] limit amount expire_at" joined
# by ";" (expire_at 0: none). Returns {1, sum1, sum2, ...} after taking, or {0, index (1-based), sum seen}.
TAKE = """
local items = {}
for key, fields, limit, amount, expire_at in string.gmatch(ARGV[1], "(%d+) ([^ ]+) (%d+) (%d+) (%d+)") do
  local names = {}
  for name in string.gmatch(fields, "[^+]+") do names[#names + 1] = name end
  items[#items + 1] = {KEYS[tonumber(key)], names, tonumber(limit), tonumber(amount), tonumber(expire_at), 0}
end
for i, it in ipairs(items) do
  local seen = 0
  for _, v in ipairs(redis.call('HMGET', it[1], unpack(it[2]))) do seen = seen + (tonumber(v) or 0) end
  if seen + it[4] > it[3] then return {0, i, seen} end
  it[6] = seen
end
local out = {1}
for i, it in ipairs(items) do
  local first = redis.call('HINCRBY', it[1], it[2][1], it[4])
  -- a field that holds just this amount was new: the hash may be too, so it gets its window's expiry
  if it[5] > 0 and first == it[4] then redis.call('EXPIREAT', it[1], it[5]) end
  out[i + 1] = it[6] + it[4]
end
return out
"""

# KEYS: the hashes to correct. ARGV[1]: per correction "keyindex field delta" joined by ";". A hash that
# is gone (its window ended) is left alone.
ADJUST = """
for key, name, delta in string.gmatch(ARGV[1], "(%d+) ([^ ]+) (-?%d+)") do
  local k = KEYS[tonumber(key)]
  if redis.call('EXISTS', k) == 1 then redis.call('HINCRBY', k, name, tonumber(delta)) end
end
return 1
"""


def _expire_arg(expire_at: float | None) -> int:
    return 0 if expire_at is None else math.ceil(expire_at)


class RedisCounters:
    """Checks of requests arriving in the same event-loop turn share one pipeline (one write, one read):
    each is still its own script call, atomic on its own."""

    def __init__(self, redis: Any, timeout_s: float = 1.0, url: str | None = None) -> None:
        """`url` (single-node `redis://`) sends the scripts over a lean pipelined connection of our own
        (resp_channel.py); without it they go through redis-py's pipeline."""
        from redis.exceptions import NoScriptError, RedisError  # imported only when Redis is configured

        self._redis = redis
        self._timeout_s = timeout_s
        self._scripts = {name: (body, _sha1(body)) for name, body in (("take", TAKE), ("adjust", ADJUST))}
        self._no_script = NoScriptError
        self._failures: tuple[type[BaseException], ...] = (OSError, asyncio.TimeoutError, RedisError)
        self._queue: list[tuple[str, list[str], str, asyncio.Future[Any]]] = []
        self._tasks: set[asyncio.Task[None]] = set()
        self._fast = RespChannel(url) if url is not None and RespChannel.supports(url) else None

    async def _eval(self, name: str, keys: list[str], arg: str) -> Any:
        if self._fast is not None:
            return await self._eval_fast(name, keys, arg)
        loop = asyncio.get_running_loop()
        future: asyncio.Future[Any] = loop.create_future()
        self._queue.append((name, keys, arg, future))
        if len(self._queue) == 1:  # the first of this turn sends the batch once the turn is over
            loop.call_soon(self._send)
        return await future

    async def _eval_fast(self, name: str, keys: list[str], arg: str) -> Any:
        assert self._fast is not None
        body, sha = self._scripts[name]
        try:
            async with asyncio.timeout(self._timeout_s):
                answer = await self._fast.call(b"EVALSHA", sha, len(keys), *keys, arg)
                if isinstance(answer, hiredis.ReplyError) and str(answer).startswith("NOSCRIPT"):
                    answer = await self._fast.call(b"EVAL", body, len(keys), *keys, arg)
        except (TimeoutError, OSError) as exc:
            self._fast.reset()
            raise CountersUnavailable(f"{type(exc).__name__}: {exc}") from exc
        if isinstance(answer, hiredis.ReplyError):
            raise CountersUnavailable(f"Redis: {answer}")
        return answer

    def _send(self) -> None:
        batch, self._queue = self._queue, []
        task = asyncio.get_running_loop().create_task(self._run(batch))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _run(self, batch: list[tuple[str, list[str], str, asyncio.Future[Any]]]) -> None:
        try:
            async with asyncio.timeout(self._timeout_s):
                pipe = self._redis.pipeline(transaction=False)
                for name, keys, arg, _ in batch:
                    pipe.evalsha(self._scripts[name][1], len(keys), *keys, arg)
                answers = await pipe.execute(raise_on_error=False)
                for i, (name, keys, arg, _) in enumerate(batch):
                    if isinstance(answers[i], self._no_script):  # first use on this server, or after a restart
                        answers[i] = await self._redis.eval(self._scripts[name][0], len(keys), *keys, arg)
        except self._failures as exc:
            for *_, future in batch:
                if not future.done():
                    future.set_exception(CountersUnavailable(f"{type(exc).__name__}: {exc}"))
            return
        for (*_, future), answer in zip(batch, answers, strict=True):
            if future.done():
                continue
            if isinstance(answer, BaseException):
                future.set_exception(CountersUnavailable(f"{type(answer).__name__}: {answer}"))
            else:
                future.set_result(answer)

    async def take(self, counters: Sequence[Counter]) -> TakeResult:
        index: dict[str, int] = {}
        parts = []
        for c in counters:
            i = index.setdefault(c.key, len(index) + 1)
            parts.append(f"{i} {'+'.join(c.fields)} {c.limit} {c.amount} {_expire_arg(c.expire_at)}")
        answer = await self._eval("take", list(index), ";".join(parts))
        if int(answer[0]) == 1:
            return TakeResult(True, -1, [int(v) for v in answer[1:]])
        return TakeResult(False, int(answer[1]) - 1, [int(answer[2])])

    async def adjust(self, adjustments: Sequence[Adjustment]) -> None:
        if not adjustments:
            return
        index: dict[str, int] = {}
        parts = [f"{index.setdefault(a.key, len(index) + 1)} {a.field} {a.delta}" for a in adjustments]
        await self._eval("adjust", list(index), ";".join(parts))

    async def get_text(self, key: str) -> str | None:
        try:
            async with asyncio.timeout(self._timeout_s):
                value = await self._redis.get(key)
        except self._failures as exc:
            raise CountersUnavailable(f"{type(exc).__name__}: {exc}") from exc
        return value.decode() if isinstance(value, bytes) else value

    async def set_text(self, key: str, value: str, ttl_s: int) -> None:
        try:
            async with asyncio.timeout(self._timeout_s):
                await self._redis.set(key, value, ex=ttl_s)
        except self._failures as exc:
            raise CountersUnavailable(f"{type(exc).__name__}: {exc}") from exc

    async def read(self, fields: Sequence[tuple[str, str]]) -> list[int]:
        if not fields:
            return []
        try:
            async with asyncio.timeout(self._timeout_s):
                pipe = self._redis.pipeline(transaction=False)
                for key, name in fields:
                    pipe.hget(key, name)
                values = await pipe.execute()
        except self._failures as exc:
            raise CountersUnavailable(f"{type(exc).__name__}: {exc}") from exc
        return [int(v) if v is not None else 0 for v in values]


def _sha1(text: str) -> str:
    return hashlib.sha1(text.encode()).hexdigest()  # Redis names scripts by their SHA-1
