"""The counters in Redis: one Lua script checks every limit of a request and takes from all of them,
or from none (DESIGN §2 step 5). Every key of one check carries the same hash tag (`{<environment id>}`),
so on Redis Cluster they live in one slot and the script may touch them all.

The checks of one event-loop turn that share a hash tag travel in ONE script call that runs them in
order, each all-or-nothing on its own: as exact as one call per check, for a fraction of Redis' work.
A limit plan's counters are encoded once (`CounterGroup.wire`); a check adds only its amounts.
Any Redis failure (down, timeout) becomes `CountersUnavailable`; the gate decides what that means.
"""

from __future__ import annotations

import asyncio
import hashlib
import math
from collections.abc import Awaitable, Sequence
from dataclasses import dataclass
from typing import Any

import hiredis

from vmx_app.gateway.capacity.counters import (
    Adjustment,
    Counter,
    CounterGroup,
    CountersUnavailable,
    TakeResult,
    group_of,
)
from vmx_app.gateway.capacity.redis_scripts import ADJUST, TAKE
from vmx_app.gateway.capacity.resp_channel import RespChannel, bulk

_SMALL = [bulk(i) for i in range(256)]  # counts and the request amount (1): encoded once


def _int(value: int) -> bytes:
    return _SMALL[value] if 0 <= value < 256 else bulk(value)


class _Unreachable(CountersUnavailable):
    """No answer at all (connection refused or lost, timeout), not an error reply."""


def _expire_arg(expire_at: float | None) -> int:
    return 0 if expire_at is None else math.ceil(expire_at)


@dataclass(slots=True)
class _Wire:
    """A group's part of a TAKE call, in both forms (plain for redis-py, RESP for the lean channel)."""

    tag: str
    keys: tuple[str, ...]
    args: tuple[str | int, ...]
    resp_keys: bytes
    resp_args: bytes
    size: int  # counters


def _wire(group: CounterGroup) -> _Wire:
    index: dict[str, int] = {}
    counters: list[str | int] = []
    for key, fields, limit, slot, expire_at in group.items:
        counters += [index.setdefault(key, len(index) + 1), len(fields), *fields, limit, slot + 1,
                     _expire_arg(expire_at)]
    keys = tuple(index)
    tag = keys[0][keys[0].find("{"):keys[0].find("}") + 1]
    args = (len(keys), len(group.items), *counters)
    return _Wire(tag, keys, args, b"".join(map(bulk, keys)), b"".join(map(bulk, args)), len(group.items))


@dataclass(slots=True)
class _Check:
    wires: list[_Wire]
    amounts: Sequence[int]
    future: asyncio.Future[TakeResult]


class RedisCounters:
    """Checks arriving in the same event-loop turn share one script call per hash tag; its commands and
    the turn's others leave in one write."""

    def __init__(self, redis: Any, timeout_s: float = 1.0, url: str | None = None) -> None:
        """`url` (single-node `redis://`) sends the scripts over a lean pipelined connection of our own
        (resp_channel.py); without it they go through redis-py's pipeline."""
        from redis.exceptions import NoScriptError, RedisError  # imported only when Redis is configured

        self._redis = redis
        self._timeout_s = timeout_s
        self._scripts = {name: (body, _sha1(body)) for name, body in (("take", TAKE), ("adjust", ADJUST))}
        self._no_script = NoScriptError
        self._failures: tuple[type[BaseException], ...] = (OSError, asyncio.TimeoutError, RedisError)
        self._queue: list[tuple[str, list[Any], asyncio.Future[Any]]] = []
        self._checks: list[_Check] = []
        self._in_flight = 0  # take calls sent, not answered yet
        self._tasks: set[asyncio.Task[None]] = set()
        self._fast = RespChannel(url, timeout_s) if url is not None and RespChannel.supports(url) else None

    # ---- one script call: the lean channel, or redis-py's pipeline ---------------------------------

    def _call(self, name: str, nkeys: int, plain: list[Any] | None, resp: bytes, count: int) -> asyncio.Future[Any]:
        """The reply of EVALSHA `name` with `nkeys` keys then args: `plain` (redis-py) or `resp`, their
        RESP encoding, `count` elements. Fails with CountersUnavailable."""
        loop = asyncio.get_running_loop()
        future: asyncio.Future[Any] = loop.create_future()
        if self._fast is None:
            assert plain is not None
            self._queue.append((name, [nkeys, *plain], future))
            if len(self._queue) == 1:  # the first of this turn sends the batch once the turn is over
                loop.call_soon(self._send)
            return future
        rest = bulk(nkeys) + resp
        proto = self._fast.connected()
        if proto is not None:
            self._over_channel(proto, name, rest, count, future)
        else:
            self._spawn(self._connect_then(name, rest, count, future))
        return future

    async def _connect_then(self, name: str, rest: bytes, count: int, future: asyncio.Future[Any]) -> None:
        assert self._fast is not None
        try:
            proto = await self._fast.ready()
        except (TimeoutError, OSError, asyncio.CancelledError) as exc:  # cancelled: shutting down
            if not future.done():
                future.set_exception(_Unreachable(f"{type(exc).__name__}: {exc}"))
            return
        self._over_channel(proto, name, rest, count, future)

    def _over_channel(self, proto: Any, name: str, rest: bytes, count: int, future: asyncio.Future[Any],
                      evalsha: bool = True) -> None:
        assert self._fast is not None
        body, sha = self._scripts[name]
        head = b"*%d\r\n$7\r\nEVALSHA\r\n$40\r\n%s\r\n" % (count + 3, sha.encode()) if evalsha else \
            b"*%d\r\n$4\r\nEVAL\r\n" % (count + 3) + bulk(body)
        reply = self._fast.send(proto, head + rest)

        def answered(done: asyncio.Future[Any]) -> None:
            if future.done():
                return
            exc = done.exception()
            if exc is not None:
                future.set_exception(_Unreachable(f"{type(exc).__name__}: {exc}"))
                return
            answer = done.result()
            if isinstance(answer, hiredis.ReplyError):
                if evalsha and str(answer).startswith("NOSCRIPT"):  # first use on this server, or a restart
                    self._over_channel(proto, name, rest, count, future, evalsha=False)
                else:
                    future.set_exception(CountersUnavailable(f"Redis: {answer}"))
                return
            future.set_result(answer)

        reply.add_done_callback(answered)

    def _spawn(self, coro: Any) -> None:
        task = asyncio.get_running_loop().create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def _send(self) -> None:
        batch, self._queue = self._queue, []
        self._spawn(self._run(batch))

    async def _run(self, batch: list[tuple[str, list[Any], asyncio.Future[Any]]]) -> None:
        try:
            async with asyncio.timeout(self._timeout_s):
                pipe = self._redis.pipeline(transaction=False)
                for name, args, _ in batch:
                    pipe.evalsha(self._scripts[name][1], *args)
                answers = await pipe.execute(raise_on_error=False)
                for i, (name, args, _) in enumerate(batch):
                    if isinstance(answers[i], self._no_script):  # first use on this server, or after a restart
                        answers[i] = await self._redis.eval(self._scripts[name][0], *args)
            for (*_, future), answer in zip(batch, answers, strict=True):
                if future.done():
                    continue
                if isinstance(answer, BaseException):
                    future.set_exception(CountersUnavailable(f"{type(answer).__name__}: {answer}"))
                else:
                    future.set_result(answer)
        except self._failures as exc:
            for *_, future in batch:
                if not future.done():
                    future.set_exception(_Unreachable(f"{type(exc).__name__}: {exc}"))
        finally:  # whatever else ended this (cancelled at shutdown): no caller waits forever
            for *_, future in batch:
                if not future.done():
                    future.set_exception(CountersUnavailable("Redis call abandoned"))

    # ---- take: the checks of one turn, one call per hash tag -----------------------------------------

    async def take(self, counters: Sequence[Counter]) -> TakeResult:
        group, amounts = group_of(counters)
        return await self.take_groups((group,), amounts)

    def take_groups(self, groups: Sequence[CounterGroup], amounts: Sequence[int]) -> Awaitable[TakeResult]:
        wires = []
        for group in groups:
            if group.items:  # an empty one adds nothing (and has no hash tag)
                if group.wire is None:
                    group.wire = _wire(group)
                wires.append(group.wire)
        loop = asyncio.get_running_loop()
        future: asyncio.Future[TakeResult] = loop.create_future()
        if not wires:
            future.set_result(TakeResult(True, -1, []))
            return future
        self._checks.append(_Check(wires, amounts, future))  # type: ignore[arg-type]
        if len(self._checks) == 1:
            loop.call_soon(self._send_checks)
        return future

    def _send_checks(self) -> None:
        """At most one round of take calls in flight: checks arriving meanwhile wait for its reply and
        then leave together. Idle, a check leaves at the end of its turn; busy, the batches grow with the
        load instead of the round trips (each costs Redis and this process a send and a receive)."""
        if self._in_flight or not self._checks:
            return
        checks, self._checks = self._checks, []
        by_tag: dict[str, list[_Check]] = {}
        for check in checks:
            by_tag.setdefault(check.wires[0].tag, []).append(check)
        for batch in by_tag.values():
            segments: dict[int, int] = {}  # id(wire) -> its number in this call
            wires: list[_Wire] = []
            for check in batch:
                for w in check.wires:
                    if id(w) not in segments:
                        segments[id(w)] = len(wires) + 1
                        wires.append(w)
            nkeys = sum(len(w.keys) for w in wires)
            if self._fast is not None:
                parts = [w.resp_keys for w in wires]
                parts.append(_int(len(wires)))
                parts += [w.resp_args for w in wires]
                parts.append(_int(len(batch)))
                count = 2 + sum(len(w.args) for w in wires)
                for check in batch:
                    parts += [_int(len(check.amounts)), *map(_int, check.amounts), _int(len(check.wires)),
                              *[_int(segments[id(w)]) for w in check.wires]]
                    count += 2 + len(check.amounts) + len(check.wires)
                reply = self._call("take", nkeys, None, b"".join(parts), nkeys + count)
            else:
                plain: list[Any] = [k for w in wires for k in w.keys]
                plain.append(len(wires))
                for w in wires:
                    plain += w.args
                plain.append(len(batch))
                for check in batch:
                    plain += [len(check.amounts), *check.amounts, len(check.wires),
                              *[segments[id(w)] for w in check.wires]]
                reply = self._call("take", nkeys, plain, b"", 0)
            self._in_flight += 1
            reply.add_done_callback(lambda done, batch=batch: self._answered(batch, done))  # type: ignore[misc]

    def _answered(self, batch: list[_Check], done: asyncio.Future[Any]) -> None:
        self._in_flight -= 1
        _answer(batch, done)
        if isinstance(done.exception(), _Unreachable) and not self._in_flight:
            # Redis did not answer: what queued up behind it fails now rather than wait out another timeout
            queued, self._checks = self._checks, []
            _answer(queued, done)
        self._send_checks()  # what queued up meanwhile

    async def adjust(self, adjustments: Sequence[Adjustment]) -> None:
        if not adjustments:
            return
        index: dict[str, int] = {}
        arg = ";".join(f"{index.setdefault(a.key, len(index) + 1)} {a.field} {a.delta}" for a in adjustments)
        keys = list(index)
        await self._call("adjust", len(keys), [*keys, arg], b"".join(map(bulk, [*keys, arg])), len(keys) + 1)

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


def _answer(batch: list[_Check], done: asyncio.Future[Any]) -> None:
    """Hand each check of one call its part of the reply (the script answers them in order)."""
    exc = done.exception()
    if exc is not None:
        for check in batch:
            if not check.future.done():
                check.future.set_exception(exc)
        return
    answer, at = done.result(), 0
    for check in batch:
        if int(answer[at]) == 1:
            size = sum(w.size for w in check.wires)
            result = TakeResult(True, -1, answer[at + 1:at + 1 + size])  # integer replies: ints already
            at += 1 + size
        else:
            result = TakeResult(False, int(answer[at + 1]) - 1, [int(answer[at + 2])])
            at += 3
        if not check.future.done():
            check.future.set_result(result)
