"""API keys (`/v1/api-key/{ws}/{env}[/{id}]`): created once with their value, then only masked."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Response

from vmx_app.api.deps import (
    DbSession,
    EnvContext,
    EnvItemContext,
    Paging,
    authorize_item_rename,
    env_guard,
    env_item_guard,
    page,
)
from vmx_app.models import ApiKey
from vmx_app.models.api_key import ApiKeyCreate, ApiKeyCreated, ApiKeyPublic, ApiKeyUpdate
from vmx_app.services import api_keys as keys_service

MODULE = "api-key"
ListCtx = Annotated[EnvContext, Depends(env_guard("api-key:list", MODULE))]
CreateCtx = Annotated[EnvContext, Depends(env_guard("api-key:create", MODULE))]
GetCtx = Annotated[EnvItemContext, Depends(env_item_guard("api-key:get", MODULE, ApiKey))]
UpdateCtx = Annotated[EnvItemContext, Depends(env_item_guard("api-key:update", MODULE, ApiKey))]
DeleteCtx = Annotated[EnvItemContext, Depends(env_item_guard("api-key:delete", MODULE, ApiKey))]
router = APIRouter(prefix="/v1/api-key", tags=["api-keys"])


@router.get("/{ws}/{env}")
async def list_keys(ctx: ListCtx, session: DbSession, paging: Paging) -> dict[str, Any]:
    rows, total = await keys_service.list_keys(session, env=ctx.environment, offset=paging.offset,
                                               limit=paging.page_size)
    return page(rows, total, paging)


@router.post("/{ws}/{env}", status_code=201, response_model=ApiKeyCreated)
async def create_key(ctx: CreateCtx, body: ApiKeyCreate, session: DbSession) -> ApiKeyCreated:
    return await keys_service.create_key(session, env=ctx.environment, data=body,
                                         actor_id=ctx.principal.user_id)


@router.get("/{ws}/{env}/{id}", response_model=ApiKeyPublic)
async def get_key(ctx: GetCtx) -> ApiKeyPublic:
    return ApiKeyPublic.of(ctx.item)


@router.put("/{ws}/{env}/{id}", response_model=ApiKeyPublic)
async def update_key(ctx: UpdateCtx, body: ApiKeyUpdate, session: DbSession) -> ApiKeyPublic:
    authorize_item_rename(ctx, "api-key:update", MODULE, body.name)
    key = await keys_service.update_key(session, key=ctx.item, env=ctx.environment, data=body,
                                        actor_id=ctx.principal.user_id)
    return ApiKeyPublic.of(key)


@router.post("/{ws}/{env}/{id}/regenerate", response_model=ApiKeyCreated)
async def regenerate_key(ctx: UpdateCtx, session: DbSession) -> ApiKeyCreated:
    """A new value for the key, shown once in `apiKeyValue`; the old value is refused from now on."""
    return await keys_service.regenerate_key(session, key=ctx.item, actor_id=ctx.principal.user_id)


@router.delete("/{ws}/{env}/{id}", status_code=204)
async def delete_key(ctx: DeleteCtx, session: DbSession) -> Response:
    await keys_service.delete_key(session, key=ctx.item)
    return Response(status_code=204)
