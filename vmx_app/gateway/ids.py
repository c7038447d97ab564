"""Random UUIDv4 ids without a system call per id: `uuid.uuid4()` reads os.urandom every time, which
releases and re-takes the GIL on the hot path. A pool reads 64 KiB at once and slices it."""

from __future__ import annotations

import os
import time
import uuid

_ID_BYTES = 16
_IDS_PER_READ = 4096


class UuidPool:
    """Not shared between threads: give each thread its own pool."""

    __slots__ = ("_buffer", "_offset")

    def __init__(self) -> None:
        self._buffer = b""
        self._offset = 0

    def next(self) -> uuid.UUID:
        if self._offset >= len(self._buffer):
            self._buffer, self._offset = os.urandom(_ID_BYTES * _IDS_PER_READ), 0
        start = self._offset
        self._offset = start + _ID_BYTES
        return uuid.UUID(bytes=self._buffer[start:start + _ID_BYTES], version=4)


class Uuid7Pool(UuidPool):
    """Time-ordered UUIDv7 ids (RFC 9562: 48-bit Unix milliseconds, then random bits): audit rows get
    their primary key in insertion order, so each insert lands at the index's right edge (hot pages in
    memory) instead of a random page of a large index."""

    __slots__ = ()

    def next(self) -> uuid.UUID:
        if self._offset >= len(self._buffer):
            self._buffer, self._offset = os.urandom(_ID_BYTES * _IDS_PER_READ), 0
        start = self._offset
        self._offset = start + _ID_BYTES
        rand = int.from_bytes(self._buffer[start:start + 10])  # 80 random bits, 74 of them kept
        value = ((time.time_ns() // 1_000_000) << 80) | (0x7 << 76) | ((rand >> 68) << 64) | (0b10 << 62) | (
            rand & ((1 << 62) - 1))
        return uuid.UUID(int=value)


_loop_pool = UuidPool()


def new_request_id() -> str:
    """For the event-loop thread (the completion path)."""
    return str(_loop_pool.next())
