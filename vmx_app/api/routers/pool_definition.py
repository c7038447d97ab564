"""`/v1/pool-definition/{ws}/{env}`: the environment's prioritization pools (DESIGN §6)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, Response

from vmx_app.api.deps import DbSession, EnvContext, env_guard
from vmx_app.models.pool_definition import PoolDefinitionPublic
from vmx_app.services import pool_definitions as pools_service

MODULE = "pool-definition"
router = APIRouter(prefix="/v1/pool-definition", tags=["pool-definition"])
GetCtx = Annotated[EnvContext, Depends(env_guard("pool-definition:get", MODULE))]
UpdateCtx = Annotated[EnvContext, Depends(env_guard("pool-definition:update", MODULE))]
DeleteCtx = Annotated[EnvContext, Depends(env_guard("pool-definition:delete", MODULE))]


@router.get("/{ws}/{env}", response_model=PoolDefinitionPublic)
async def get_pool_definition(ctx: GetCtx, session: DbSession) -> PoolDefinitionPublic:
    return pools_service.to_public(await pools_service.get_definition(session, ctx.environment))


@router.put("/{ws}/{env}", response_model=PoolDefinitionPublic)
async def put_pool_definition(ctx: UpdateCtx, session: DbSession,
                              body: Annotated[Any, Body()]) -> PoolDefinitionPublic:
    """`{"definition": [{name, rank, minReservation, maxReservation, resources[]}]}`; 400 names the field."""
    row = await pools_service.put_definition(session, environment=ctx.environment, body=body,
                                             actor_id=ctx.principal.user_id)
    return pools_service.to_public(row)


@router.delete("/{ws}/{env}", status_code=204)
async def delete_pool_definition(ctx: DeleteCtx, session: DbSession) -> Response:
    await pools_service.delete_definition(session, environment=ctx.environment)
    return Response(status_code=204)
