"""Batching audit writer: the request path enqueues, a background task inserts rows in batches.

Bounded queue, a batch every `flush_interval_s` or as soon as `batch_size` rows wait. A row leaves the
queue only once its batch is written or spooled: stopping never cancels a batch in flight (a
cancelled COPY would roll back) and never loses the rows a batch was waiting for.
The insert itself is the store's (stores.py: executemany in a thread on SQLite, COPY on Postgres).

When the database is down or slower than `write_timeout_s`, batches go to the spool (spool.py, an
fsynced file under the data directory) instead, and so does every later batch while the spool holds
anything, so replays keep the order; once the database answers again the spool is replayed, record
by record, idempotently. Spools left by a process that died are adopted and replayed too. On
shutdown what is queued goes to the database, or to the spool when the database cannot take it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import time
from collections import deque
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from vmx_app.audit.spool import AuditSpool
from vmx_app.audit.stores import AuditStore, store_for_settings
from vmx_app.gateway.audit import AuditRecord

log = logging.getLogger("vmx.audit")
Row = tuple[Any, ...]
AfterWrite = Callable[[list[Row]], Awaitable[None]]


class AuditWriter:
    def __init__(self, *, batch_size: int = 1000, flush_interval_s: float = 1.0, max_queue: int = 100_000,
                 store: AuditStore | None = None, spool_dir: Path | None = None, write_timeout_s: float = 10.0,
                 retry_interval_s: float = 1.0, after_write: AfterWrite | None = None) -> None:
        self._store = store
        self._rows: deque[Row] = deque()
        self._batch_size = batch_size
        self._flush_interval_s = flush_interval_s
        self._max_queue = max_queue
        self._write_timeout_s = write_timeout_s
        self._retry_interval_s = retry_interval_s
        self._after_write = after_write
        self._spool_dir = spool_dir
        self._spool: AuditSpool | None = None
        self._orphans: list[AuditSpool] = []
        self._next_replay = 0.0
        self._wake: asyncio.Event | None = None  # set when rows arrive or stopping starts
        self._stopping = False
        self._task: asyncio.Task[None] | None = None
        self.dropped = 0

    def _get_store(self) -> AuditStore:
        if self._store is None:
            self._store = store_for_settings()  # chosen late: tests and the CLI set the database first
        return self._store

    def _event(self) -> asyncio.Event:
        if self._wake is None:
            self._wake = asyncio.Event()
        return self._wake

    @property
    def spool_bytes(self) -> int:
        """Bytes waiting in this process's spool (and spools it adopted): /readyz details, metrics."""
        return sum(s.size_bytes for s in self._spools())

    def _spools(self) -> list[AuditSpool]:
        return [*self._orphans, *([self._spool] if self._spool is not None else [])]

    def _open_spools(self) -> None:
        """This process's own spool file, and the unlocked ones of processes that are gone."""
        if self._spool_dir is None or self._spool is not None:
            return
        self._spool_dir.mkdir(parents=True, exist_ok=True)
        own = AuditSpool(self._spool_dir / f"spool-{os.getpid()}-{time.time_ns()}.bin")
        own.try_lock()
        self._spool = own
        for path in sorted(self._spool_dir.glob("spool-*.bin")):
            if path != own.path:
                orphan = AuditSpool(path)
                if orphan.try_lock():
                    self._orphans.append(orphan)

    @property
    def queue_depth(self) -> int:
        return len(self._rows)

    @property
    def running(self) -> bool:
        return self._task is not None and not self._task.done()

    def submit(self, record: AuditRecord) -> None:
        """Encode now (a compact row, not the request's dicts) and queue it; never blocks."""
        self._put(self._get_store().encode(record), record.request_id)

    def _put(self, row: Row, request_id: str) -> None:
        if len(self._rows) >= self._max_queue:
            self.dropped += 1
            log.error("audit queue full; record %s dropped", request_id)
            return
        self._rows.append(row)
        if len(self._rows) == 1 or len(self._rows) >= self._batch_size:
            self._event().set()

    def start(self) -> None:
        if self._task is None:
            self._stopping = False
            self._open_spools()
            self._task = asyncio.create_task(self._run(), name="vmx-audit-writer")

    async def stop(self) -> None:
        """Let the batch in flight finish, then write (or spool) everything still queued."""
        if self._task is not None:
            self._stopping = True
            self._event().set()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        await self.flush()
        for spool in self._spools():
            spool.release(remove=True)
        self._spool, self._orphans = None, []
        if self._store is not None:
            await self._store.close()
            self._store = None

    async def flush(self) -> int:
        """Write (or spool) everything queued now; returns the number of rows written to the database.
        Without a spool an outage raises and the rows stay queued."""
        done = 0
        while self._rows:
            done += await self._write_next()
        return done

    def _head(self) -> list[Row]:
        return [self._rows[i] for i in range(min(self._batch_size, len(self._rows)))]

    def _pop(self, count: int) -> None:
        for _ in range(count):
            self._rows.popleft()

    async def _write_next(self) -> int:
        batch = self._head()
        self._open_spools()
        spool = self._spool
        if spool is not None and self.spool_bytes:  # behind a spool: keep the order
            await asyncio.to_thread(spool.append, batch)
            written = 0
        elif (written := await self._write_or_salvage(batch, idempotent=False)) is None:
            if spool is None:
                raise ConnectionError("audit database unreachable and no spool configured")
            log.warning("audit database unreachable: %d rows spooled to %s", len(batch), spool.path)
            await asyncio.to_thread(spool.append, batch)
            written = 0
        self._pop(len(batch))  # only now: a failed or interrupted write leaves its rows queued
        return written

    async def _write_or_salvage(self, batch: list[Row], *, idempotent: bool) -> int | None:
        """Rows written (the batch less poison rows, which are dropped); None on an outage."""
        store = self._get_store()
        try:
            await asyncio.wait_for(store.write(batch, idempotent=idempotent), self._write_timeout_s)
        except Exception as exc:  # noqa: BLE001 - sorted below: outage or poison rows
            try:
                await asyncio.wait_for(store.ping(), self._write_timeout_s)
            except Exception:  # noqa: BLE001 - any failure to reach the database is an outage
                return None
            log.warning("audit batch of %d rows refused (%s); writing row by row", len(batch), exc)
            written = await self._salvage(batch)
        else:
            written = len(batch)
        if self._after_write is not None:
            try:
                await self._after_write(batch)
            except Exception:  # noqa: BLE001 - bookkeeping must never cost an audit row
                log.exception("audit after-write hook failed")
        return written

    async def _salvage(self, batch: list[Row]) -> int:
        """The database is up but refused the batch: rows it refuses alone are poison (they would
        block every later batch) and are dropped with an error; replays skip rows already stored."""
        written = 0
        for row in batch:
            try:
                await asyncio.wait_for(self._get_store().write([row], idempotent=True), self._write_timeout_s)
                written += 1
            except Exception:  # noqa: BLE001 - a row the database refuses
                self.dropped += 1
                log.error("audit row refused by the database and dropped: %r", row[:3])
        return written

    async def replay(self) -> bool:
        """Write every spooled record, in order, once; True when the spools are empty. Stops at the
        first outage (the rest waits for the next attempt)."""
        store = self._get_store()
        for spool in self._spools():
            offset = 0
            while True:
                record = await asyncio.to_thread(spool.read_at, offset)
                if record is None:
                    break
                rows, offset = record
                if await self._write_or_salvage([store.revive(r) for r in rows], idempotent=True) is None:
                    return False
            await asyncio.to_thread(spool.clear)
            log.info("audit spool %s replayed", spool.path)
        for orphan in [o for o in self._orphans if not o.pending]:
            orphan.release(remove=True)
            self._orphans.remove(orphan)
        return True

    async def _replay_due(self) -> None:
        if not self.spool_bytes or time.monotonic() < self._next_replay:
            return
        try:
            done = await self.replay()
        except Exception:  # noqa: BLE001 - a broken replay must not stop the writer
            log.exception("audit spool replay failed")
            done = False
        if not done:
            self._next_replay = time.monotonic() + self._retry_interval_s

    async def _run(self) -> None:
        wake = self._event()
        while not self._stopping:
            await self._replay_due()
            if not self._rows:
                wake.clear()
                with contextlib.suppress(TimeoutError):  # wakes up to retry a pending spool
                    await asyncio.wait_for(wake.wait(), self._retry_interval_s if self.spool_bytes else None)
                continue
            if len(self._rows) < self._batch_size:
                wake.clear()  # the next wake-up: a full batch, or stopping
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(wake.wait(), self._flush_interval_s)
                if self._stopping:
                    return  # stop() writes what is queued
            try:
                await self._write_next()
            except Exception:  # noqa: BLE001 - no spool and no database: retry later, rows stay queued
                log.exception("audit batch of %d rows failed", min(self._batch_size, len(self._rows)))
                await asyncio.sleep(self._retry_interval_s)


_writer: AuditWriter | None = None


def get_audit_writer() -> AuditWriter:
    global _writer
    if _writer is None:
        from vmx_app.audit.key_usage import KeyLastUsed
        from vmx_app.settings import get_settings

        settings = get_settings()
        _writer = AuditWriter(flush_interval_s=settings.vmx_audit_flush_interval_seconds,
                              spool_dir=settings.audit_spool_dir,
                              write_timeout_s=settings.vmx_audit_write_timeout_seconds,
                              after_write=KeyLastUsed().after_write)
    return _writer
