"""AI connections (`/v1/ai-connection/{ws}/{env}[/{id}]`): CRUD and the "test connection" action."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, Response

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
from vmx_app.errors import Invalid
from vmx_app.models import AIConnection
from vmx_app.models.ai_connection import AIConnectionCreate, AIConnectionTest, AIConnectionUpdate
from vmx_app.services import ai_connections as service

MODULE = "ai-connection"
router = APIRouter(prefix="/v1/ai-connection", tags=["ai-connections"])


def _env(action: str) -> Any:
    return Depends(env_guard(f"{MODULE}:{action}", MODULE))


def _item(action: str) -> Any:
    return Depends(env_item_guard(f"{MODULE}:{action}", MODULE, AIConnection))


@router.get("/{ws}/{env}")
async def list_connections(ctx: Annotated[EnvContext, _env("list")], session: DbSession,
                           paging: Paging) -> dict[str, Any]:
    rows = await service.list_connections(session=session, environment_id=ctx.environment.id)
    window = rows[paging.offset:paging.offset + paging.page_size]
    return page([await service.to_public(r) for r in window], len(rows), paging)


@router.post("/{ws}/{env}", status_code=201)
async def create_connection(ctx: Annotated[EnvContext, _env("create")], body: AIConnectionCreate,
                            session: DbSession) -> dict[str, Any]:
    row = await service.create_connection(session=session, workspace_id=ctx.workspace.id,
                                          environment_id=ctx.environment.id, data=body,
                                          user_id=ctx.principal.user_id)
    return await service.to_public(row)


@router.post("/{ws}/{env}/test")
async def test_new_connection(ctx: Annotated[EnvContext, _env("test")], body: AIConnectionTest) -> dict[str, Any]:
    """Test an unsaved config (the create form): `{provider, config}` → `{ok, models | error}`."""
    if body.provider is None or body.config is None:
        raise Invalid("provider and config are required",
                      details=[{"field": f, "message": "required"} for f in ("provider", "config")
                               if getattr(body, f) is None])
    return await service.check_new_config(workspace_id=ctx.workspace.id, environment_id=ctx.environment.id,
                                          provider=body.provider, config=body.config)


@router.get("/{ws}/{env}/{id}")
async def get_connection(ctx: Annotated[EnvItemContext, _item("get")]) -> dict[str, Any]:
    return await service.to_public(ctx.item)


@router.put("/{ws}/{env}/{id}")
async def update_connection(ctx: Annotated[EnvItemContext, _item("update")], body: AIConnectionUpdate,
                            session: DbSession) -> dict[str, Any]:
    authorize_item_rename(ctx, f"{MODULE}:update", MODULE, body.name)
    row = await service.update_connection(session=session, row=ctx.item, data=body, user_id=ctx.principal.user_id)
    return await service.to_public(row)


@router.delete("/{ws}/{env}/{id}", status_code=204)
async def delete_connection(ctx: Annotated[EnvItemContext, _item("delete")], session: DbSession) -> Response:
    await service.delete_connection(session=session, row=ctx.item)
    return Response(status_code=204)


@router.post("/{ws}/{env}/{id}/test")
async def test_connection(ctx: Annotated[EnvItemContext, _item("test")],
                          body: Annotated[AIConnectionTest | None, Body()] = None) -> dict[str, Any]:
    """List the provider's models with the stored credentials, or with an edited config sent in the body
    (masked secrets stand for the stored ones). Answers `{ok, models}` or `{ok: false, error}`."""
    return await service.check_unsaved_edit(row=ctx.item, provider=body.provider if body else None,
                                            config=body.config if body else None)
