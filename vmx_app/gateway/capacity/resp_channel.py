"""A minimal pipelined Redis connection for the gate's one hot-path command (EVALSHA).

Why not redis-py: its per-command machinery (connection pool checkout, retries, encoders, response
callbacks) cost more CPU than the rest of the gate together, measured at ~60 µs per check under load.
Here a command is a few bytes added to its event-loop turn's one write (a send is costly on this kind of
machine) and its reply one hiredis parse; replies come back in order on one connection. One timer per
connection enforces the reply deadline (an `asyncio.timeout` per call cost more than the call). Single-node
Redis over TCP only; Cluster and TLS keep using redis-py (`redis_counters.py` decides).
"""

from __future__ import annotations

import asyncio
from collections import deque
from typing import Any
from urllib.parse import unquote, urlparse

import hiredis


class ChannelClosed(ConnectionError):
    pass


def bulk(arg: bytes | str | int) -> bytes:
    """One RESP bulk string."""
    raw = arg if isinstance(arg, bytes) else str(arg).encode()
    return b"$%d\r\n%s\r\n" % (len(raw), raw)


def encode(*args: bytes | str | int) -> bytes:
    return b"*%d\r\n" % len(args) + b"".join(map(bulk, args))


class _Protocol(asyncio.Protocol):
    def __init__(self, timeout_s: float) -> None:
        self.reader = hiredis.Reader()
        self.waiters: deque[tuple[asyncio.Future[Any], float]] = deque()  # (reply, deadline)
        self.transport: asyncio.Transport | None = None
        self.closed = False
        self.outgoing: list[bytes] = []
        self.timeout_s = timeout_s
        self.timer: asyncio.TimerHandle | None = None

    def expect(self, future: asyncio.Future[Any], loop: asyncio.AbstractEventLoop) -> None:
        deadline = loop.time() + self.timeout_s
        self.waiters.append((future, deadline))
        if self.timer is None:
            self.timer = loop.call_at(deadline, self._check_deadline, loop)

    def _check_deadline(self, loop: asyncio.AbstractEventLoop) -> None:
        """Runs about once per timeout while replies are awaited: the oldest one late fails them all."""
        self.timer = None
        if not self.waiters:
            return
        deadline = self.waiters[0][1]
        if deadline > loop.time():
            self.timer = loop.call_at(deadline, self._check_deadline, loop)
            return
        self.fail(TimeoutError(f"no reply from Redis within {self.timeout_s:g}s"))
        if self.transport is not None:
            self.transport.close()  # replies still on their way would be out of step

    def fail(self, exc: BaseException) -> None:
        self.closed = True
        while self.waiters:
            waiter = self.waiters.popleft()[0]
            if not waiter.done():
                waiter.set_exception(exc)

    def queue(self, packed: bytes) -> None:
        """Commands of one event-loop turn leave in one write: a send is the expensive part here."""
        self.outgoing.append(packed)
        if len(self.outgoing) == 1:
            asyncio.get_running_loop().call_soon(self.flush)

    def flush(self) -> None:
        data, self.outgoing = b"".join(self.outgoing), []
        if self.transport is not None and not self.closed:
            self.transport.write(data)

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def data_received(self, data: bytes) -> None:
        self.reader.feed(data)
        while (reply := self.reader.gets()) is not False:
            waiter = self.waiters.popleft()[0]
            if not waiter.done():
                waiter.set_result(reply)  # error replies arrive as hiredis.ReplyError values

    def connection_lost(self, exc: Exception | None) -> None:
        self.fail(ChannelClosed(f"Redis connection lost: {exc}"))


class RespChannel:
    def __init__(self, url: str, timeout_s: float = 1.0) -> None:
        self.timeout_s = timeout_s
        parsed = urlparse(url)
        self.host = parsed.hostname or "127.0.0.1"
        self.port = parsed.port or 6379
        self.password = unquote(parsed.password) if parsed.password else None
        self.username = unquote(parsed.username) if parsed.username else None
        self.db = int(parsed.path.lstrip("/") or 0)
        self._proto: _Protocol | None = None
        self._connecting: asyncio.Future[_Protocol] | None = None

    @staticmethod
    def supports(url: str) -> bool:
        return urlparse(url).scheme == "redis"

    async def _connect(self) -> _Protocol:
        loop = asyncio.get_running_loop()
        _, proto = await asyncio.wait_for(
            loop.create_connection(lambda: _Protocol(self.timeout_s), self.host, self.port), self.timeout_s)
        setup: list[tuple[bytes | str | int, ...]] = []
        if self.password:
            setup.append(("AUTH", self.username, self.password) if self.username else ("AUTH", self.password))
        if self.db:
            setup.append(("SELECT", self.db))
        for command in setup:
            reply = await self._send(proto, encode(*command))
            if isinstance(reply, hiredis.ReplyError):
                proto.transport.close()  # type: ignore[union-attr]
                raise ChannelClosed(f"Redis refused {command[0]!r}: {reply}")
        return proto

    def connected(self) -> _Protocol | None:
        proto = self._proto
        return proto if proto is not None and not proto.closed else None

    async def ready(self) -> _Protocol:
        proto = self._proto
        if proto is not None and not proto.closed:
            return proto
        if self._connecting is None:  # concurrent callers share one connection attempt
            self._connecting = asyncio.ensure_future(self._connect())
        try:
            self._proto = await asyncio.shield(self._connecting)
        finally:
            if self._connecting is not None and self._connecting.done():
                self._connecting = None
        return self._proto

    @staticmethod
    def _send(proto: _Protocol, packed: bytes) -> asyncio.Future[Any]:
        """The reply of one packed command: a value (ReplyError for an error reply), or TimeoutError /
        ChannelClosed once the connection's deadline passes or it drops."""
        loop = asyncio.get_running_loop()
        future: asyncio.Future[Any] = loop.create_future()
        if proto.closed:
            future.set_exception(ChannelClosed("Redis connection closed"))
            return future
        proto.expect(future, loop)
        proto.queue(packed)
        return future

    def send(self, proto: _Protocol, packed: bytes) -> asyncio.Future[Any]:
        return self._send(proto, packed)

    async def call(self, *args: bytes | str | int) -> Any:
        proto = await self.ready()
        return await self._send(proto, encode(*args))

    def reset(self) -> None:
        """Drop the connection (after a timeout its replies could be out of step); the next call reconnects."""
        proto, self._proto = self._proto, None
        if proto is not None and proto.transport is not None:
            proto.transport.close()

    def close(self) -> None:
        self.reset()
