"""What the batches page shows of a batch and of its items: plain strings and numbers, computed here."""

from __future__ import annotations

import dataclasses
from typing import Any

from vmx_app.models.completion_batch import FINISHED, CompletionBatch, CompletionBatchItem
from vmx_app.state.format import when


@dataclasses.dataclass
class BatchRow:
    id: str = ""
    short_id: str = ""  # the first block of the id: enough to tell batches apart in a table
    created: str = ""
    status: str = ""
    total: int = 0
    completed: int = 0
    failed: int = 0
    cancelled: int = 0
    percent: int = 0  # finished items (completed + failed) of the total
    progress: str = ""  # "12 / 20"
    tokens: str = ""
    cost: str = ""
    running: int = 0  # items started and not finished yet
    active: bool = False  # PENDING or RUNNING, or cancelled with items still running: the page keeps reading it


@dataclasses.dataclass
class ItemRow:
    index: int = 0
    custom_id: str = ""
    resource: str = ""
    endpoint: str = ""
    status: str = ""
    status_code: str = ""
    tokens: int = 0
    cost: str = ""
    error: str = ""


def money(value: float) -> str:
    return f"${value:,.6f}" if value else "$0"


def batch_row(batch: CompletionBatch) -> BatchRow:
    done = batch.completed_items + batch.failed_items
    total = batch.total_items
    unfinished = max(0, total - done - batch.cancelled_items)
    return BatchRow(
        id=str(batch.id), short_id=str(batch.id).split("-")[0], created=when(batch.created_at),
        status=batch.status, total=total, completed=batch.completed_items, failed=batch.failed_items,
        cancelled=batch.cancelled_items, percent=int(done * 100 / total) if total else 0,
        progress=f"{done} / {total}", tokens=f"{batch.total_tokens:,}", cost=money(batch.cost),
        running=unfinished if batch.status in FINISHED else 0,
        active=batch.status not in FINISHED or unfinished > 0,
    )


def error_message(error: dict[str, Any] | None) -> str:
    """The words of an item's error body (the gateway's or the provider's `{"error": {"message"}}`)."""
    if not error:
        return ""
    inner = error.get("error", error)
    if isinstance(inner, dict):
        message = inner.get("message") or inner.get("type") or ""
        return str(message) if message else str(inner)[:300]
    return str(inner)[:300]


def item_row(item: CompletionBatchItem) -> ItemRow:
    return ItemRow(
        index=item.seq + 1, custom_id=item.custom_id or "", resource=item.resource_name, endpoint=item.endpoint,
        status=item.status, status_code=str(item.status_code) if item.status_code is not None else "",
        tokens=item.total_tokens, cost=money(item.cost), error=error_message(item.error),
    )
