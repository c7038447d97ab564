"""Batching audit writer: the request path enqueues, a background task inserts rows in batches.

Bounded queue, flush every second or every `batch_size` rows, and a final flush on shutdown. The
insert itself is the store's (stores.py: executemany in a thread on SQLite, COPY on Postgres).
(Spooling to disk during a database outage belongs to the audit issue that builds on this.)
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Any

from vmx_app.audit.stores import AuditStore, store_for_settings
from vmx_app.gateway.audit import AuditRecord

log = logging.getLogger("vmx.audit")


class AuditWriter:
    def __init__(self, *, batch_size: int = 1000, flush_interval_s: float = 1.0, max_queue: int = 100_000,
                 store: AuditStore | None = None) -> None:
        self._store = store
        self._queue: asyncio.Queue[tuple[Any, ...]] | None = None
        self._batch_size = batch_size
        self._flush_interval_s = flush_interval_s
        self._max_queue = max_queue
        self._task: asyncio.Task[None] | None = None
        self.dropped = 0

    def _get_store(self) -> AuditStore:
        if self._store is None:
            self._store = store_for_settings()  # chosen late: tests and the CLI set the database first
        return self._store

    def submit(self, record: AuditRecord) -> None:
        """Encode now (a compact row, not the request's dicts) and queue it; never blocks."""
        self._put(self._get_store().encode(record), record.request_id)

    def _put(self, row: tuple[Any, ...], request_id: str) -> None:
        if self._queue is None:
            self._queue = asyncio.Queue(self._max_queue)
        try:
            self._queue.put_nowait(row)
        except asyncio.QueueFull:
            self.dropped += 1
            log.error("audit queue full; record %s dropped", request_id)

    def start(self) -> None:
        if self._queue is None:
            self._queue = asyncio.Queue(self._max_queue)
        if self._task is None:
            self._task = asyncio.create_task(self._run(), name="vmx-audit-writer")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        await self.flush()
        if self._store is not None:
            await self._store.close()
            self._store = None

    async def flush(self) -> int:
        """Write everything queued now; returns the number of rows written."""
        written = 0
        while self._queue is not None and not self._queue.empty():
            batch = [self._queue.get_nowait() for _ in range(min(self._batch_size, self._queue.qsize()))]
            await self._write(batch)
            written += len(batch)
        return written

    async def _run(self) -> None:
        assert self._queue is not None
        while True:
            first = await self._queue.get()
            await asyncio.sleep(self._flush_interval_s if self._queue.qsize() < self._batch_size else 0)
            batch = [first] + [self._queue.get_nowait()
                               for _ in range(min(self._batch_size - 1, self._queue.qsize()))]
            try:
                await self._write(batch)
            except Exception:
                log.exception("audit batch of %d rows failed; retrying row by row", len(batch))
                await self._salvage(batch)

    async def _salvage(self, batch: list[tuple[Any, ...]]) -> None:
        """A batch failed: write what can be written. Rows the database refuses while others pass are
        poison (they would block every later batch) and are dropped with an error; when nothing passes
        the database is down, so everything goes back in the queue for the next attempt."""
        refused: list[tuple[Any, ...]] = []
        for row in batch:
            try:
                await self._write([row])
            except Exception:  # noqa: BLE001 - sorted below: poison row or outage
                refused.append(row)
        if len(refused) < len(batch):
            for row in refused:
                self.dropped += 1
                log.error("audit row refused by the database and dropped: %r", row[:3])
            return
        for row in refused:
            self._put(row, "(retried)")
        await asyncio.sleep(1)

    async def _write(self, batch: list[tuple[Any, ...]]) -> None:
        await self._get_store().write(batch)


_writer: AuditWriter | None = None


def get_audit_writer() -> AuditWriter:
    global _writer
    if _writer is None:
        _writer = AuditWriter()
    return _writer
