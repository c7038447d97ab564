"""Following a batch as its items finish, whichever process runs them (the `sync` batch's SSE stream):
polls the item table for newly finished items, then gives the summary once the batch has finished."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from typing import Any

from sqlmodel import col, select

from vmx_app.db import session_scope
from vmx_app.models.completion_batch import FINISHED, BatchStatus, CompletionBatchItem
from vmx_app.services.batches import batch_json, get_batch_row, item_json

_DONE = (BatchStatus.COMPLETED.value, BatchStatus.FAILED.value, BatchStatus.CANCELLED.value)
# Items are stamped before their transaction commits: look back this far so none is missed.
_LOOKBACK = timedelta(seconds=30)


async def watch(batch_id: uuid.UUID, *, poll_s: float = 0.2) -> AsyncIterator[tuple[str, dict[str, Any]]]:
    """("item", item) for each finished item, then ("batch", summary)."""
    sent: set[uuid.UUID] = set()
    newest: datetime | None = None
    while True:
        batch = await get_batch_row(batch_id)  # read before the items: the last item commits with the status
        where = [CompletionBatchItem.batch_id == batch_id, col(CompletionBatchItem.status).in_(_DONE)]
        if newest is not None:
            where.append(col(CompletionBatchItem.completed_at) >= newest - _LOOKBACK)
        async with session_scope() as s:
            items = (await s.exec(select(CompletionBatchItem).where(*where)
                                  .order_by(col(CompletionBatchItem.completed_at)))).all()
        for item in items:
            if item.id in sent:
                continue
            sent.add(item.id)
            if item.completed_at is not None and (newest is None or item.completed_at > newest):
                newest = item.completed_at
            yield "item", item_json(item)
        if batch.status in FINISHED:
            yield "batch", batch_json(batch)
            return
        await asyncio.sleep(poll_s)
