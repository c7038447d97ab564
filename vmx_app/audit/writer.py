"""Batching audit writer: the request path enqueues, a background task inserts rows in batches.

Bounded queue, a batch every `flush_interval_s` or as soon as `batch_size` rows wait, and on shutdown
every row still queued. A row leaves the queue only once its batch is written: stopping never cancels a
batch in flight (a cancelled COPY would roll back) and never loses the rows a batch was waiting for.
The insert itself is the store's (stores.py: executemany in a thread on SQLite, COPY on Postgres).
(Spooling to disk during a database outage belongs to the audit issue that builds on this.)
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import deque
from typing import Any

from vmx_app.audit.stores import AuditStore, store_for_settings
from vmx_app.gateway.audit import AuditRecord

log = logging.getLogger("vmx.audit")
Row = tuple[Any, ...]


class AuditWriter:
    def __init__(self, *, batch_size: int = 1000, flush_interval_s: float = 1.0, max_queue: int = 100_000,
                 store: AuditStore | None = None) -> None:
        self._store = store
        self._rows: deque[Row] = deque()
        self._batch_size = batch_size
        self._flush_interval_s = flush_interval_s
        self._max_queue = max_queue
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
            self._task = asyncio.create_task(self._run(), name="vmx-audit-writer")

    async def stop(self) -> None:
        """Let the batch in flight finish, then write everything still queued."""
        if self._task is not None:
            self._stopping = True
            self._event().set()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        await self.flush()
        if self._store is not None:
            await self._store.close()
            self._store = None

    async def flush(self) -> int:
        """Write everything queued now; returns the number of rows written. Poison rows are dropped
        (see `_salvage`); raises when the database takes nothing (the rows stay queued)."""
        written = 0
        while self._rows:
            try:
                written += await self._write_next()
            except Exception:
                log.exception("audit batch failed during a flush; retrying row by row")
                before = len(self._rows)
                written += await self._salvage(retry_delay_s=0)
                if len(self._rows) >= before:
                    raise
        return written

    async def _write_next(self) -> int:
        batch = [self._rows[i] for i in range(min(self._batch_size, len(self._rows)))]
        await self._get_store().write(batch)
        for _ in batch:  # only now: a failed or interrupted write leaves its rows queued
            self._rows.popleft()
        return len(batch)

    async def _run(self) -> None:
        wake = self._event()
        while not self._stopping:
            if not self._rows:
                wake.clear()
                await wake.wait()
                continue
            if len(self._rows) < self._batch_size:
                wake.clear()  # the next wake-up: a full batch, or stopping
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(wake.wait(), self._flush_interval_s)
                if self._stopping:
                    return  # stop() writes what is queued
            try:
                await self._write_next()
            except Exception:
                log.exception("audit batch of %d rows failed; retrying row by row",
                              min(self._batch_size, len(self._rows)))
                await self._salvage()

    async def _salvage(self, retry_delay_s: float = 1.0) -> int:
        """The head batch failed: write what can be written. Rows the database refuses while others pass
        are poison (they would block every later batch) and are dropped with an error; when nothing
        passes the database is down, so everything stays queued for the next attempt."""
        batch = [self._rows.popleft() for _ in range(min(self._batch_size, len(self._rows)))]
        refused: list[Row] = []
        for row in batch:
            try:
                await self._get_store().write([row])
            except Exception:  # noqa: BLE001 - sorted below: poison row or outage
                refused.append(row)
        if len(refused) < len(batch):
            for row in refused:
                self.dropped += 1
                log.error("audit row refused by the database and dropped: %r", row[:3])
            return len(batch) - len(refused)
        self._rows.extendleft(reversed(refused))  # back at the head, in their order
        await asyncio.sleep(retry_delay_s)
        return 0


_writer: AuditWriter | None = None


def get_audit_writer() -> AuditWriter:
    global _writer
    if _writer is None:
        from vmx_app.settings import get_settings

        _writer = AuditWriter(flush_interval_s=get_settings().vmx_audit_flush_interval_seconds)
    return _writer
