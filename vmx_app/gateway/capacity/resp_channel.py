"""A minimal pipelined Redis connection for the gate's one hot-path command (EVALSHA).

Why not redis-py: its per-command machinery (connection pool checkout, retries, encoders, response
callbacks) cost more CPU than the rest of the gate together, measured at ~60 µs per check under load.
Here a command is a few bytes added to its event-loop turn's one write (a send is costly on this kind of
machine) and its reply one hiredis parse; replies come back in order on one connection. Single-node
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


def encode(*args: bytes | str | int) -> bytes:
    parts = [b"*%d\r\n" % len(args)]
    for arg in args:
        raw = arg if isinstance(arg, bytes) else str(arg).encode()
        parts.append(b"$%d\r\n%s\r\n" % (len(raw), raw))
    return b"".join(parts)


class _Protocol(asyncio.Protocol):
    def __init__(self) -> None:
        self.reader = hiredis.Reader()
        self.waiters: deque[asyncio.Future[Any]] = deque()
        self.transport: asyncio.Transport | None = None
        self.closed = False
        self.outgoing: list[bytes] = []

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
            waiter = self.waiters.popleft()
            if not waiter.done():
                waiter.set_result(reply)  # error replies arrive as hiredis.ReplyError values

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        while self.waiters:
            waiter = self.waiters.popleft()
            if not waiter.done():
                waiter.set_exception(ChannelClosed(f"Redis connection lost: {exc}"))


class RespChannel:
    def __init__(self, url: str) -> None:
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
        _, proto = await loop.create_connection(_Protocol, self.host, self.port)
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

    async def _ready(self) -> _Protocol:
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
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        proto.waiters.append(future)
        proto.queue(packed)
        return future

    async def call(self, *args: bytes | str | int) -> Any:
        proto = await self._ready()
        return await self._send(proto, encode(*args))

    def reset(self) -> None:
        """Drop the connection (after a timeout its replies could be out of step); the next call reconnects."""
        proto, self._proto = self._proto, None
        if proto is not None and proto.transport is not None:
            proto.transport.close()

    def close(self) -> None:
        self.reset()
