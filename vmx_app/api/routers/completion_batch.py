"""Batch completions (issue 14): `/v1/completion-batch/{ws}/{env}[/{id}[/{item_id}|/results|/cancel]]`.

Callers are a console session (policy `completion-batch:list|get|create|cancel`) or an API key of the
environment (like the completion API; a key sees only its own batches). `sync` batches answer an SSE
stream of item results as they finish, then the summary; `async` and `callback` batches answer 202.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Annotated, Any

import orjson
from fastapi import APIRouter, Depends, Query, Request
from starlette.responses import Response, StreamingResponse

from vmx_app.api.completion_auth import api_key_hash, read_body
from vmx_app.api.deps import Paging, get_principal, page, request_token, tag_guard, unauthorized
from vmx_app.api.responses import OrjsonResponse
from vmx_app.api.sse_response import SSEResponse
from vmx_app.auth.authorization import principal_for_token
from vmx_app.errors import Invalid, NotFound, TooLarge, Unauthenticated
from vmx_app.gateway.context import RequestContext
from vmx_app.gateway.engine import GatewayRequest
from vmx_app.gateway.errors import GatewayError
from vmx_app.services import batch_admin, batches
from vmx_app.services.batch_upload import results_jsonl
from vmx_app.services.batch_watch import watch
from vmx_app.services.batches import BatchScope, batch_json, item_json
from vmx_app.services.gateway_runtime import ready_engine
from vmx_app.settings import get_settings

MODULE = "completion-batch"
router = APIRouter(prefix="/v1/completion-batch/{ws}/{env}", tags=["completion-batch"])


async def _key_scope(request: Request, ws: str, env: str) -> BatchScope:
    """An API key of this environment, checked as the completion API checks it."""
    key_hash = api_key_hash(request)
    if key_hash is None:
        raise unauthorized()
    engine = await ready_engine()
    probe = GatewayRequest(workspace_id=ws, environment_id=env, endpoint="chat", body=b"", key_hash=key_hash)
    try:
        key = await engine.authenticate(RequestContext("batch-auth", ws, env, "chat"), probe)
    except GatewayError as exc:
        raise Unauthenticated(exc.message, code="invalid_api_key") from None
    assert key is not None
    try:
        ids = uuid.UUID(ws), uuid.UUID(env), uuid.UUID(key.id)
    except ValueError:
        raise NotFound("Environment not found") from None
    return BatchScope(ids[0], ids[1], api_key_id=ids[2], api_key_hash=key_hash,
                      api_key_resources=tuple(key.resources))


def batch_guard(action: str) -> Callable[..., Awaitable[BatchScope]]:
    """A console session (scope and policy) or, failing that, an API key of the environment."""

    async def guard(ws: str, env: str, request: Request) -> BatchScope:
        token = request_token(request)
        if token and await principal_for_token(token) is not None:
            principal = await get_principal(request)  # its password-change rule too
            return await batch_admin.scope_for(principal, ws, env, action)
        return await _key_scope(request, ws, env)

    return tag_guard(guard, action, "environment")


ListScope = Annotated[BatchScope, Depends(batch_guard("completion-batch:list"))]
GetScope = Annotated[BatchScope, Depends(batch_guard("completion-batch:get"))]
CreateScope = Annotated[BatchScope, Depends(batch_guard("completion-batch:create"))]
CancelScope = Annotated[BatchScope, Depends(batch_guard("completion-batch:cancel"))]


@router.post("", status_code=202, summary="Submit a batch (sync: SSE of results; async, callback: 202)")
async def create_batch(scope: CreateScope, request: Request) -> Response:
    raw = await read_body(request, get_settings().vmx_batch_max_body_bytes)
    if raw is None:
        raise TooLarge(f"a batch body is at most {get_settings().vmx_batch_max_body_bytes} bytes")
    try:
        body = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise Invalid(f"the body is not valid JSON: {exc}", field="body") from None
    batch = await batches.create_batch(scope, body)
    if batch.type != "sync":
        return OrjsonResponse(batch_json(batch), status_code=202)
    return SSEResponse(_sse(batch.id), status_code=200, media_type="text/event-stream",
                       headers={"cache-control": "no-cache", "x-accel-buffering": "no",
                                "x-vmx-batch-id": str(batch.id)})


async def _sse(batch_id: uuid.UUID) -> AsyncIterator[bytes]:
    async for kind, data in watch(batch_id):
        yield b"event: " + kind.encode() + b"\ndata: " + orjson.dumps(data) + b"\n\n"
    yield b"data: [DONE]\n\n"


@router.get("", summary="Batches of the environment, newest first")
async def list_batches(scope: ListScope, paging: Paging) -> dict[str, Any]:
    rows, total = await batches.list_batches(scope, offset=paging.offset, limit=paging.page_size)
    return page([batch_json(b) for b in rows], total, paging)


@router.get("/{id}", summary="One batch; `includeItems=true` adds its items in order")
async def get_batch(scope: GetScope, id: str,  # noqa: A002
                    include_items: Annotated[bool, Query(alias="includeItems")] = False,
                    items_offset: Annotated[int, Query(alias="itemsOffset", ge=0)] = 0,
                    items_limit: Annotated[int, Query(alias="itemsLimit", ge=1, le=50_000)] = 50_000,
                    ) -> dict[str, Any]:
    batch = await batches.get_batch(scope, id)
    items = await batches.list_items(batch, offset=items_offset, limit=items_limit) if include_items else None
    return batch_json(batch, items)


@router.get("/{id}/results", summary="Every item's outcome as JSON Lines: customId, status, response or error")
async def batch_results(scope: GetScope, id: str) -> StreamingResponse:  # noqa: A002
    # Declared before `/{id}/{item_id}`: item ids are UUIDs, so `results` is never one.
    batch = await batches.get_batch(scope, id)
    return StreamingResponse(results_jsonl(batch), media_type="application/x-ndjson",
                             headers={"Content-Disposition": f'attachment; filename="batch-{batch.id}.jsonl"'})


@router.get("/{id}/{item_id}", summary="One item of a batch, with its request")
async def get_item(scope: GetScope, id: str, item_id: str) -> dict[str, Any]:  # noqa: A002
    return item_json(await batches.get_item(scope, id, item_id), with_request=True)


@router.post("/{id}/cancel", summary="Cancel: no new item starts; running items finish")
async def cancel_batch(scope: CancelScope, id: str) -> dict[str, Any]:  # noqa: A002
    return batch_json(await batches.cancel_batch(scope, id))
