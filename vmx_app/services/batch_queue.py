"""The durable batch queue: the item table itself (issue 14).

- Claim: one atomic UPDATE of due items (PENDING and available, or RUNNING with an expired lease) to
  RUNNING under this owner's lease. On Postgres the candidates are picked with `FOR UPDATE SKIP LOCKED`
  so concurrent processes take disjoint items without waiting on each other; SQLite (embedded, one
  process) serializes writers, so the same UPDATE is atomic there as it is.
- Results are written only while the lease is still ours (same owner, same attempt number): an item
  retaken after its lease expired can never be written twice. The batch's totals move in the same
  transaction, so they count each item exactly once.
"""

from __future__ import annotations

import asyncio
import functools
import random
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, ParamSpec, TypeVar

from sqlalchemy import and_, case, or_, select, update
from sqlalchemy.exc import OperationalError
from sqlmodel.ext.asyncio.session import AsyncSession

from vmx_app.db import get_engine, session_scope
from vmx_app.models.base import utcnow
from vmx_app.models.completion_batch import BatchStatus, CompletionBatch, CompletionBatchItem

ITEM = CompletionBatchItem.__table__  # type: ignore[attr-defined]
BATCH = CompletionBatch.__table__  # type: ignore[attr-defined]
ACTIVE = (BatchStatus.PENDING.value, BatchStatus.RUNNING.value)
T = TypeVar("T")
P = ParamSpec("P")
_LOCK_RETRIES = 30


@dataclass(frozen=True, slots=True)
class ClaimedItem:
    id: uuid.UUID
    batch_id: uuid.UUID
    seq: int
    resource_name: str
    endpoint: str
    request: dict[str, Any]
    attempts: int
    owner: str


@dataclass(frozen=True, slots=True)
class ItemOutcome:
    status: str  # COMPLETED | FAILED
    status_code: int
    result: dict[str, Any] | None
    error: dict[str, Any] | None
    request_id: str | None
    prompt_tokens: int = 0
    completion_tokens: int = 0
    total_tokens: int = 0
    cost: float = 0.0


def _is_postgres() -> bool:
    return get_engine().dialect.name == "postgresql"


def _retry_locked(fn: Callable[P, Awaitable[T]]) -> Callable[P, Awaitable[T]]:
    """SQLite answers "database is locked" at once when a WAL snapshot went stale under another writer
    (the audit writer's connection, another process): the transaction rolled back, so run it again."""

    @functools.wraps(fn)
    async def wrapper(*args: P.args, **kwargs: P.kwargs) -> T:
        for attempt in range(_LOCK_RETRIES):
            try:
                return await fn(*args, **kwargs)
            except OperationalError as exc:
                if ("locked" not in str(exc) and "busy" not in str(exc)) or attempt == _LOCK_RETRIES - 1:
                    raise
                await asyncio.sleep(min(0.2, 0.005 * 2 ** attempt) * (0.5 + random.random()))
        raise AssertionError("unreachable")

    return wrapper


def _due(now: datetime) -> Any:
    return or_(and_(ITEM.c.status == BatchStatus.PENDING.value, ITEM.c.available_at <= now),
               and_(ITEM.c.status == BatchStatus.RUNNING.value, ITEM.c.lease_expires_at < now))


@_retry_locked
async def claim(owner: str, limit: int, lease_s: float) -> list[ClaimedItem]:
    """Lease up to `limit` due items to `owner`; marks their batches RUNNING."""
    if limit <= 0:
        return []
    now = utcnow()
    async with session_scope(readonly=True) as s:  # an idle queue costs a read, not a write lock
        if (await s.execute(select(ITEM.c.id).where(_due(now)).limit(1))).first() is None:
            return []
    candidates = select(ITEM.c.id).where(_due(now)).order_by(ITEM.c.available_at, ITEM.c.seq).limit(limit)
    if _is_postgres():
        candidates = candidates.with_for_update(skip_locked=True)
    stmt = (update(ITEM).where(ITEM.c.id.in_(candidates.scalar_subquery()))
            .values(status=BatchStatus.RUNNING.value, lease_owner=owner,
                    lease_expires_at=now + timedelta(seconds=lease_s), attempts=ITEM.c.attempts + 1,
                    started_at=now)
            .returning(ITEM.c.id, ITEM.c.batch_id, ITEM.c.seq, ITEM.c.resource_name, ITEM.c.endpoint,
                       ITEM.c.request, ITEM.c.attempts))
    async with session_scope() as s:
        rows = (await s.execute(stmt)).all()
        batch_ids = {r.batch_id for r in rows}
        if batch_ids:
            await s.execute(update(BATCH).where(BATCH.c.id.in_(batch_ids),
                                                BATCH.c.status == BatchStatus.PENDING.value)
                            .values(status=BatchStatus.RUNNING.value, updated_at=now))
    return [ClaimedItem(r.id, r.batch_id, r.seq, r.resource_name, r.endpoint, r.request, r.attempts, owner)
            for r in rows]


@_retry_locked
async def is_active(batch_id: uuid.UUID) -> bool:
    """Checked right before an item starts: a batch cancelled while the item waited starts nothing more."""
    async with session_scope() as s:
        status = (await s.execute(select(BATCH.c.status).where(BATCH.c.id == batch_id))).scalar()
    return status in ACTIVE


def _ours(item: ClaimedItem) -> Any:
    return and_(ITEM.c.id == item.id, ITEM.c.status == BatchStatus.RUNNING.value,
                ITEM.c.lease_owner == item.owner, ITEM.c.attempts == item.attempts)


@_retry_locked
async def requeue(item: ClaimedItem, delay_s: float, *, not_an_attempt: bool = False) -> bool:
    """A retryable failure: back to PENDING, due again after `delay_s`; CANCELLED instead when the batch
    was cancelled meanwhile. False if the lease was lost. `not_an_attempt`: the item never reached the
    provider (the gate held it back, or the worker is stopping), so its attempt is given back."""
    now = utcnow()
    active = select(BATCH.c.id).where(BATCH.c.id == item.batch_id, BATCH.c.status.in_(ACTIVE))
    attempts = ITEM.c.attempts - 1 if not_an_attempt else ITEM.c.attempts
    async with session_scope() as s:
        res = await s.execute(update(ITEM).where(_ours(item), ITEM.c.batch_id.in_(active.scalar_subquery()))
                              .values(status=BatchStatus.PENDING.value, lease_owner=None, lease_expires_at=None,
                                      available_at=now + timedelta(seconds=delay_s), attempts=attempts))
        if res.rowcount:  # type: ignore[attr-defined]
            return True
        res = await s.execute(update(ITEM).where(_ours(item)).values(
            status=BatchStatus.CANCELLED.value, lease_owner=None, lease_expires_at=None, completed_at=now))
        if not res.rowcount:  # type: ignore[attr-defined]
            return False
        await s.execute(update(BATCH).where(BATCH.c.id == item.batch_id).values(
            cancelled_items=BATCH.c.cancelled_items + 1, updated_at=now))
    return True


@_retry_locked
async def finish(item: ClaimedItem, outcome: ItemOutcome) -> tuple[bool, str | None]:
    """Write the item's result and add it to the batch's totals, if the lease is still ours.

    Returns (written, final batch status when this write finished the batch, else None)."""
    now = utcnow()
    done = outcome.status == BatchStatus.COMPLETED.value
    async with session_scope() as s:
        res = await s.execute(update(ITEM).where(_ours(item)).values(
            status=outcome.status, status_code=outcome.status_code, result=outcome.result, error=outcome.error,
            request_id=outcome.request_id, total_tokens=outcome.total_tokens, cost=outcome.cost,
            lease_expires_at=None, completed_at=now))  # lease_owner stays: which process ran it
        if not res.rowcount:  # type: ignore[attr-defined]
            return False, None
        await s.execute(update(BATCH).where(BATCH.c.id == item.batch_id).values(
            completed_items=BATCH.c.completed_items + (1 if done else 0),
            failed_items=BATCH.c.failed_items + (0 if done else 1),
            prompt_tokens=BATCH.c.prompt_tokens + outcome.prompt_tokens,
            completion_tokens=BATCH.c.completion_tokens + outcome.completion_tokens,
            total_tokens=BATCH.c.total_tokens + outcome.total_tokens,
            cost=BATCH.c.cost + outcome.cost, updated_at=now))
        final = await _finalize(s, item.batch_id, now)
    return True, final


async def _finalize(s: AsyncSession, batch_id: uuid.UUID, now: datetime) -> str | None:
    """Exactly one writer moves a batch whose items are all done to COMPLETED (FAILED if none succeeded)."""
    status = case((BATCH.c.failed_items >= BATCH.c.total_items, BatchStatus.FAILED.value),
                  else_=BatchStatus.COMPLETED.value)
    res = await s.execute(update(BATCH).where(
        BATCH.c.id == batch_id, BATCH.c.status.in_(ACTIVE),
        BATCH.c.completed_items + BATCH.c.failed_items + BATCH.c.cancelled_items >= BATCH.c.total_items,
    ).values(status=status, completed_at=now, updated_at=now).returning(BATCH.c.status))
    row = res.first()
    return row[0] if row is not None else None


@_retry_locked
async def cancel(batch_id: uuid.UUID) -> bool:
    """No new item of the batch starts: queued items (and ones whose lease ran out) become CANCELLED;
    items running now finish and are recorded. False if the batch had already finished."""
    now = utcnow()
    async with session_scope() as s:
        res = await s.execute(update(BATCH).where(BATCH.c.id == batch_id, BATCH.c.status.in_(ACTIVE))
                              .values(status=BatchStatus.CANCELLED.value, completed_at=now, updated_at=now))
        if not res.rowcount:  # type: ignore[attr-defined]
            return False
        queued = or_(ITEM.c.status == BatchStatus.PENDING.value,
                     and_(ITEM.c.status == BatchStatus.RUNNING.value, ITEM.c.lease_expires_at < now))
        stopped = await s.execute(update(ITEM).where(ITEM.c.batch_id == batch_id, queued).values(
            status=BatchStatus.CANCELLED.value, lease_owner=None, lease_expires_at=None, completed_at=now))
        await s.execute(update(BATCH).where(BATCH.c.id == batch_id).values(
            cancelled_items=BATCH.c.cancelled_items + stopped.rowcount))  # type: ignore[attr-defined]
    return True


@_retry_locked
async def extend(owner: str, item_ids: list[uuid.UUID], lease_s: float) -> int:
    """Heartbeat: push the leases of the items this owner is still running (a slow provider call must
    not let another process retake an item that is alive)."""
    if not item_ids:
        return 0
    async with session_scope() as s:
        res = await s.execute(update(ITEM).where(ITEM.c.id.in_(item_ids), ITEM.c.lease_owner == owner,
                                                 ITEM.c.status == BatchStatus.RUNNING.value)
                              .values(lease_expires_at=utcnow() + timedelta(seconds=lease_s)))
    return int(res.rowcount)  # type: ignore[attr-defined]
