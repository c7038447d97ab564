"""AI resources (`/v1/ai-resource/{ws}/{env}[/{id}]`), and the config cache's diagnostics route."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Response

from vmx_app.api.deps import (
    DbSession,
    EnvContext,
    EnvItemContext,
    Paging,
    Principal,
    authenticated,
    authorize_item_rename,
    env_guard,
    env_item_guard,
    page,
)
from vmx_app.errors import Forbidden, Invalid, NotFound
from vmx_app.gateway.merge import EnvelopeError
from vmx_app.gateway.routing import validate_routing
from vmx_app.gateway.routing_dry_run import dry_run, infer_endpoint
from vmx_app.models import AIResource
from vmx_app.models.ai_resource import AIResourceCreate, AIResourcePublic, AIResourceUpdate, RoutingTestRequest
from vmx_app.services import ai_resources as service
from vmx_app.services import config_cache, config_events
from vmx_app.services.gateway_runtime import get_engine

MODULE = "ai-resource"
router = APIRouter(prefix="/v1/ai-resource", tags=["ai-resources"])
internal_router = APIRouter(prefix="/v1/internal/config-cache", tags=["diagnostics"])


def _env(action: str) -> Any:
    return Depends(env_guard(f"{MODULE}:{action}", MODULE))


def _item(action: str) -> Any:
    return Depends(env_item_guard(f"{MODULE}:{action}", MODULE, AIResource))


@router.get("/{ws}/{env}")
async def list_resources(ctx: Annotated[EnvContext, _env("list")], session: DbSession, paging: Paging,
                         connection_id: Annotated[uuid.UUID | None, Query(alias="connectionId")] = None,
                         ) -> dict[str, Any]:
    rows = await service.list_resources(session=session, environment_id=ctx.environment.id,
                                        connection_id=connection_id)
    window = rows[paging.offset:paging.offset + paging.page_size]
    return page([service.to_public(r).model_dump(by_alias=True, mode="json") for r in window], len(rows), paging)


@router.post("/{ws}/{env}", status_code=201, response_model=AIResourcePublic)
async def create_resource(ctx: Annotated[EnvContext, _env("create")], body: AIResourceCreate,
                          session: DbSession) -> AIResourcePublic:
    row = await service.create_resource(session=session, workspace_id=ctx.workspace.id,
                                        environment_id=ctx.environment.id, data=body, user_id=ctx.principal.user_id)
    return service.to_public(row)


@router.get("/{ws}/{env}/{id}", response_model=AIResourcePublic)
async def get_resource(ctx: Annotated[EnvItemContext, _item("get")]) -> AIResourcePublic:
    return service.to_public(ctx.item)


@router.put("/{ws}/{env}/{id}", response_model=AIResourcePublic)
async def update_resource(ctx: Annotated[EnvItemContext, _item("update")], body: AIResourceUpdate,
                          session: DbSession) -> AIResourcePublic:
    authorize_item_rename(ctx, f"{MODULE}:update", MODULE, body.name)
    row = await service.update_resource(session=session, row=ctx.item, data=body, user_id=ctx.principal.user_id)
    return service.to_public(row)


@router.delete("/{ws}/{env}/{id}", status_code=204)
async def delete_resource(ctx: Annotated[EnvItemContext, _item("delete")], session: DbSession) -> Response:
    await service.delete_resource(session=session, row=ctx.item)
    return Response(status_code=204)


@router.post("/{ws}/{env}/{id}/routing-test")
async def routing_test(ctx: Annotated[EnvItemContext, _item("routing-test")], body: RoutingTestRequest,
                       ) -> dict[str, Any]:
    """Dry run: the rule a sample request hits and why, with this process's live error rates for the
    primary model. Nothing is sent to a provider and nothing is counted."""
    resource = await config_cache.get_resource(ctx.environment.id, ctx.item.name)
    if resource is None:
        raise NotFound("AI resource not found")
    errors = validate_routing(body.routing) if body.routing is not None else []
    if errors:
        raise Invalid("; ".join(errors), details={"fields": errors})
    try:
        return dry_run(resource, body.request, body.endpoint or infer_endpoint(body.request),
                       error_rate=get_engine().deps.primary_error_rate(resource), api_key_name=body.api_key_name,
                       routing=body.routing)
    except EnvelopeError as exc:
        raise Invalid(str(exc), field=f"request.{exc.field}") from None


@internal_router.get("/resource/{ws}/{env}/{name}")
async def cached_resource(name: str, ctx: Annotated[EnvContext, _env("get")]) -> dict[str, Any]:
    """Diagnostics for operators (admins only): what this process's config cache serves for a resource
    name, exactly as the completion path reads it (loading it on a miss)."""
    if not ctx.principal.is_admin:
        raise Forbidden("the config cache diagnostics are for admins")
    cache = config_cache.get_cache()
    _held, ttl_left = cache.peek_resource(ctx.environment.id, name)
    snapshot = await config_cache.get_resource(ctx.environment.id, name)
    return {
        "cachedBefore": ttl_left is not None,
        "ttlRemainingS": ttl_left,
        "resource": snapshot.dump() if snapshot is not None else None,
        "listening": config_events.is_listening(),
        "origin": config_events.ORIGIN,
    }


@internal_router.get("/stats")
async def cache_stats(principal: Annotated[Principal, Depends(authenticated())]) -> dict[str, int]:
    """Diagnostics for operators (admins only): database loads and entries of this process's cache."""
    if not principal.is_admin:
        raise Forbidden("the config cache diagnostics are for admins")
    return config_cache.get_cache().stats()
