"""The audit writer's spool: batches it could not write (database down or too slow) go to an
append-only file under the data directory and are replayed in order once the database is back.

One record per batch: `VMXS` | payload length (u32) | CRC-32 of the payload (u32) | payload (the
batch's encoded rows as JSON). Each append is fsynced, so an acknowledged batch survives a crash; a
torn last record (a crash mid-append) fails its length or checksum and is set aside, never replayed
half. The file is emptied only after every record in it was written; replays insert idempotently (on
the row id), so a crash between the database commit and the truncation cannot duplicate a row.
Methods block (file I/O): the writer calls them in a worker thread.
"""

from __future__ import annotations

import fcntl
import logging
import os
import struct
import time
import zlib
from pathlib import Path
from typing import Any

import orjson

log = logging.getLogger("vmx.audit")
MAGIC = b"VMXS"
HEADER = struct.Struct(">4sII")
MAX_RECORD_BYTES = 512 * 1024 * 1024  # far above any batch: a larger length is corruption


class AuditSpool:
    """One process's spool file, held with an exclusive lock so no other process replays it meanwhile."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock_fd: int | None = None
        self._size = path.stat().st_size if path.exists() else 0

    def try_lock(self) -> bool:
        """Take the file's lock (non-blocking): False while another live process holds it."""
        if self._lock_fd is not None:
            return True
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            os.close(fd)
            return False
        self._lock_fd = fd
        self._size = self.path.stat().st_size
        return True

    def release(self, *, remove: bool = False) -> None:
        if remove and self._size == 0:
            self.path.unlink(missing_ok=True)
        if self._lock_fd is not None:
            os.close(self._lock_fd)
            self._lock_fd = None

    @property
    def size_bytes(self) -> int:
        return self._size

    @property
    def pending(self) -> bool:
        return self._size > 0

    def append(self, rows: list[tuple[Any, ...]]) -> None:
        payload = orjson.dumps(rows, option=orjson.OPT_NON_STR_KEYS)
        record = HEADER.pack(MAGIC, len(payload), zlib.crc32(payload)) + payload
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self.path.open("ab") as f:
            f.write(record)
            f.flush()
            os.fsync(f.fileno())
        self._size += len(record)

    def read_at(self, offset: int) -> tuple[list[list[Any]], int] | None:
        """The record at `offset` and the offset after it; None at the end of the file or at a
        damaged record (which is moved aside, with everything after it, for an operator to inspect)."""
        if offset >= self._size:
            return None
        with self.path.open("rb") as f:
            f.seek(offset)
            header = f.read(HEADER.size)
            if len(header) == HEADER.size:
                magic, length, crc = HEADER.unpack(header)
                if magic == MAGIC and length <= MAX_RECORD_BYTES:
                    payload = f.read(length)
                    if len(payload) == length and zlib.crc32(payload) == crc:
                        return orjson.loads(payload), offset + HEADER.size + length
        self._set_aside(offset)
        return None

    def _set_aside(self, offset: int) -> None:
        damaged = self.path.with_name(f"{self.path.name}.damaged-{int(time.time())}")
        with self.path.open("rb") as src, damaged.open("wb") as dst:
            src.seek(offset)
            dst.write(src.read())
        with self.path.open("r+b") as f:
            f.truncate(offset)
            os.fsync(f.fileno())
        log.error("audit spool %s: damaged record at byte %d (a crash mid-append?); the %d bytes from "
                  "there were moved to %s", self.path, offset, self._size - offset, damaged)
        self._size = offset

    def clear(self) -> None:
        """Every record was written: start over with an empty file."""
        with self.path.open("r+b") as f:
            f.truncate(0)
            os.fsync(f.fileno())
        self._size = 0
