"""Batch completions as stored (issue 14): create, read, list and cancel, for a caller already scoped to
one environment (`BatchScope`: a console user authorized by `batch_admin`, or an API key). An API key
sees only the batches it submitted."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, insert
from sqlmodel import col, select

from vmx_app.db import session_scope
from vmx_app.errors import NotFound
from vmx_app.models import AIResource
from vmx_app.models.completion_batch import CompletionBatch, CompletionBatchItem
from vmx_app.services import batch_queue
from vmx_app.services.batch_callbacks import check_target
from vmx_app.services.batch_spec import BatchSpec, ResourceIndex, parse_batch
from vmx_app.settings import get_settings

_INSERT_CHUNK = 2000


@dataclass(frozen=True, slots=True)
class BatchScope:
    workspace_id: uuid.UUID
    environment_id: uuid.UUID
    user_id: uuid.UUID | None = None
    api_key_id: uuid.UUID | None = None
    api_key_hash: str | None = None
    api_key_resources: tuple[str, ...] = ()

    def owns(self, batch: CompletionBatch) -> bool:
        return (batch.environment_id == self.environment_id
                and (self.api_key_id is None or batch.api_key_id == self.api_key_id))


async def resource_index(environment_id: uuid.UUID) -> ResourceIndex:
    async with session_scope(readonly=True) as s:
        rows = (await s.exec(select(AIResource.id, AIResource.name)
                             .where(AIResource.environment_id == environment_id))).all()
    return ResourceIndex({str(r[0]): r[1] for r in rows}, {r[1]: str(r[0]) for r in rows})


async def create_batch(scope: BatchScope, body: Any) -> CompletionBatch:
    """Validate every item up front (400 naming `items[i]…`), then store the batch and queue its items."""
    spec = parse_batch(body, await resource_index(scope.environment_id), max_items=get_settings().vmx_batch_max_items,
                       allowed_resources=list(scope.api_key_resources))
    if spec.callback is not None:
        await check_target(spec.callback.url)
    return await store_batch(scope, spec)


async def store_batch(scope: BatchScope, spec: BatchSpec) -> CompletionBatch:
    batch = CompletionBatch(
        workspace_id=scope.workspace_id, environment_id=scope.environment_id, type=spec.type,
        api_key_id=scope.api_key_id, api_key_hash=scope.api_key_hash, user_id=scope.user_id,
        capacity=spec.capacity, callback=spec.callback.as_json() if spec.callback else None,
        total_items=len(spec.items))
    rows = [{"id": uuid.uuid4(), "batch_id": batch.id, "seq": it.seq, "resource_id": uuid.UUID(it.resource_id),
             "resource_name": it.resource_name, "endpoint": it.endpoint, "custom_id": it.custom_id,
             "request": it.request, "status": "PENDING", "attempts": 0, "total_tokens": 0, "cost": 0.0,
             "available_at": batch.created_at} for it in spec.items]
    async with session_scope() as s:
        s.add(batch)
        await s.flush()
        for start in range(0, len(rows), _INSERT_CHUNK):
            await s.execute(insert(CompletionBatchItem), rows[start:start + _INSERT_CHUNK])
        await s.refresh(batch)
    return batch


async def get_batch(scope: BatchScope, batch_id: str) -> CompletionBatch:
    bid = _uuid(batch_id, "Batch")
    async with session_scope(readonly=True) as s:
        batch = await s.get(CompletionBatch, bid)
    if batch is None or not scope.owns(batch):
        raise NotFound("Batch not found")
    return batch


async def list_items(batch: CompletionBatch, *, offset: int = 0, limit: int = 50_000) -> list[CompletionBatchItem]:
    async with session_scope(readonly=True) as s:
        return list((await s.exec(select(CompletionBatchItem).where(CompletionBatchItem.batch_id == batch.id)
                                  .order_by(col(CompletionBatchItem.seq)).offset(offset).limit(limit))).all())


async def get_item(scope: BatchScope, batch_id: str, item_id: str) -> CompletionBatchItem:
    batch = await get_batch(scope, batch_id)
    iid = _uuid(item_id, "Batch item")
    async with session_scope(readonly=True) as s:
        item = await s.get(CompletionBatchItem, iid)
    if item is None or item.batch_id != batch.id:
        raise NotFound("Batch item not found")
    return item


async def list_batches(scope: BatchScope, *, offset: int, limit: int) -> tuple[list[CompletionBatch], int]:
    """Newest first."""
    where = [CompletionBatch.environment_id == scope.environment_id]
    if scope.api_key_id is not None:
        where.append(CompletionBatch.api_key_id == scope.api_key_id)
    async with session_scope(readonly=True) as s:
        total = (await s.exec(select(func.count()).select_from(CompletionBatch).where(*where))).one()
        rows = (await s.exec(select(CompletionBatch).where(*where)
                             .order_by(col(CompletionBatch.created_at).desc()).offset(offset).limit(limit))).all()
    return list(rows), int(total)


async def cancel_batch(scope: BatchScope, batch_id: str) -> CompletionBatch:
    """Stops new items; a finished batch is returned as it is."""
    batch = await get_batch(scope, batch_id)
    await batch_queue.cancel(batch.id)
    return await get_batch(scope, batch_id)


def _uuid(value: str, what: str) -> uuid.UUID:
    try:
        return uuid.UUID(value)
    except (TypeError, ValueError):
        raise NotFound(f"{what} not found") from None


def _iso(value: Any) -> str | None:
    return value.isoformat().replace("+00:00", "Z") if value is not None else None


def batch_json(batch: CompletionBatch, items: list[CompletionBatchItem] | None = None) -> dict[str, Any]:
    done = batch.completed_items + batch.failed_items + batch.cancelled_items
    out: dict[str, Any] = {
        "id": str(batch.id), "workspaceId": str(batch.workspace_id), "environmentId": str(batch.environment_id),
        "type": batch.type, "status": batch.status, "totalItems": batch.total_items,
        "completedItems": batch.completed_items, "failedItems": batch.failed_items,
        "cancelledItems": batch.cancelled_items, "remainingItems": max(0, batch.total_items - done),
        "promptTokens": batch.prompt_tokens, "completionTokens": batch.completion_tokens,
        "totalTokens": batch.total_tokens, "cost": round(batch.cost, 10), "capacity": batch.capacity,
        "callback": _public_callback(batch.callback), "apiKeyId": str(batch.api_key_id) if batch.api_key_id else None,
        "userId": str(batch.user_id) if batch.user_id else None, "createdAt": _iso(batch.created_at),
        "updatedAt": _iso(batch.updated_at), "completedAt": _iso(batch.completed_at),
    }
    if items is not None:
        out["items"] = [item_json(i) for i in items]
    return out


def _public_callback(callback: dict[str, Any] | None) -> dict[str, Any] | None:
    """Header values may be secrets: only their names are shown."""
    if callback is None:
        return None
    return {"url": callback.get("url"), "events": callback.get("events"),
            "headers": sorted((callback.get("headers") or {}).keys())}


def item_json(item: CompletionBatchItem, *, with_request: bool = False) -> dict[str, Any]:
    out: dict[str, Any] = {
        "id": str(item.id), "batchId": str(item.batch_id), "index": item.seq, "customId": item.custom_id,
        "resourceId": str(item.resource_id), "resourceName": item.resource_name, "endpoint": item.endpoint,
        "status": item.status, "statusCode": item.status_code, "attempts": item.attempts, "worker": item.lease_owner,
        "result": item.result, "error": item.error, "requestId": item.request_id,
        "totalTokens": item.total_tokens, "cost": round(item.cost, 10),
        "startedAt": _iso(item.started_at), "completedAt": _iso(item.completed_at),
    }
    if with_request:
        out["request"] = item.request
    return out


async def get_batch_row(batch_id: uuid.UUID) -> CompletionBatch:
    """Unscoped, for the workers (the batch was authorized when it was accepted); the primary, not a
    replica: it must show the write that just finished the batch."""
    async with session_scope() as s:
        batch = await s.get(CompletionBatch, batch_id)
    if batch is None:
        raise NotFound("Batch not found")
    return batch


async def item_json_by_id(item_id: uuid.UUID) -> dict[str, Any]:
    async with session_scope() as s:
        item = await s.get(CompletionBatchItem, item_id)
    if item is None:
        raise NotFound("Batch item not found")
    return item_json(item)
