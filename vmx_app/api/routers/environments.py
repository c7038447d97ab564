"""Environments (`/v1/environment/{ws}[/{env}]`)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Response

from vmx_app.api.deps import (
    DbSession,
    EnvContext,
    Paging,
    WorkspaceContext,
    environment_collection_guard,
    environment_guard,
    page,
)
from vmx_app.auth.authorization import require_new_name
from vmx_app.auth.policy import environment_resource
from vmx_app.models.workspace import EnvironmentCreate, EnvironmentPublic, EnvironmentUpdate
from vmx_app.services import environments as env_service

router = APIRouter(prefix="/v1/environment", tags=["environments"])


@router.get("/{ws}")
async def list_environments(
        ctx: Annotated[WorkspaceContext, Depends(environment_collection_guard("environment:list"))],
        session: DbSession, paging: Paging) -> dict[str, Any]:
    rows, total = await env_service.list_environments(session, workspace=ctx.workspace, offset=paging.offset,
                                                      limit=paging.page_size)
    return page([EnvironmentPublic.of(e) for e in rows], total, paging)


@router.post("/{ws}", status_code=201, response_model=EnvironmentPublic)
async def create_environment(
        ctx: Annotated[WorkspaceContext, Depends(environment_collection_guard("environment:create"))],
        body: EnvironmentCreate, session: DbSession) -> EnvironmentPublic:
    env = await env_service.create_environment(session, workspace=ctx.workspace, data=body,
                                               actor_id=ctx.principal.user_id)
    return EnvironmentPublic.of(env)


@router.get("/{ws}/{env}", response_model=EnvironmentPublic)
async def get_environment(
        ctx: Annotated[EnvContext, Depends(environment_guard("environment:get"))]) -> EnvironmentPublic:
    return EnvironmentPublic.of(ctx.environment)


@router.put("/{ws}/{env}", response_model=EnvironmentPublic)
async def update_environment(ctx: Annotated[EnvContext, Depends(environment_guard("environment:update"))],
                             body: EnvironmentUpdate, session: DbSession) -> EnvironmentPublic:
    if body.name is not None:
        require_new_name(ctx.principal, "environment:update",
                                 environment_resource(ctx.workspace.name, ctx.environment.name),
                                 environment_resource(ctx.workspace.name, body.name))
    env = await env_service.update_environment(session, env=ctx.environment, data=body,
                                               actor_id=ctx.principal.user_id)
    return EnvironmentPublic.of(env)


@router.delete("/{ws}/{env}", status_code=204)
async def delete_environment(ctx: Annotated[EnvContext, Depends(environment_guard("environment:delete"))],
                             session: DbSession) -> Response:
    await env_service.delete_environment(session, env=ctx.environment)
    return Response(status_code=204)
