"""Roles (`/v1/role`): policy documents, the action catalog, and role holders."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Response

from vmx_app.api.deps import (
    CurrentPrincipal,
    DbSession,
    Paging,
    Principal,
    authorize,
    page,
    require,
    tag_guard,
)
from vmx_app.auth.authorization import require_new_name
from vmx_app.auth.policy import permissions_catalog, role_resource
from vmx_app.models import Role
from vmx_app.models.role import RoleCreate, RolePublic, RoleUpdate, UserIdsRequest
from vmx_app.services import role_admin
from vmx_app.services import roles as roles_service
from vmx_app.services import users as users_service

router = APIRouter(prefix="/v1/role", tags=["roles"])


@dataclass(frozen=True, slots=True)
class RoleContext:
    principal: Principal
    role: Role


def role_guard(action: str) -> Callable[..., Awaitable[RoleContext]]:
    """`/role/{id}…`: 404 for unknown ids, then `action` on `role:<name>`."""

    async def guard(id: uuid.UUID, principal: CurrentPrincipal, session: DbSession) -> RoleContext:  # noqa: A002
        role = await roles_service.get_role(session, id)
        authorize(principal, action, role_resource(role.name))
        return RoleContext(principal, role)

    return tag_guard(guard, action, "global")


@router.get("/permissions")
async def permissions(_: Annotated[Principal, Depends(require("role:list", role_resource()))]) -> dict[str, Any]:
    return permissions_catalog()


@router.get("")
async def list_roles(_: Annotated[Principal, Depends(require("role:list", role_resource()))],
                     session: DbSession, paging: Paging) -> dict[str, Any]:
    rows, total = await roles_service.list_roles(session, offset=paging.offset, limit=paging.page_size)
    return page([RolePublic.of(r) for r in rows], total, paging)


@router.post("", status_code=201, response_model=RolePublic)
async def create_role(principal: Annotated[Principal, Depends(require("role:create", role_resource()))],
                      body: RoleCreate, session: DbSession) -> RolePublic:
    return RolePublic.of(await role_admin.create_role_as(principal, body, session=session))


@router.get("/{id}", response_model=RolePublic)
async def get_role(ctx: Annotated[RoleContext, Depends(role_guard("role:get"))]) -> RolePublic:
    return RolePublic.of(ctx.role)


@router.put("/{id}", response_model=RolePublic)
async def update_role(ctx: Annotated[RoleContext, Depends(role_guard("role:update"))], body: RoleUpdate,
                      session: DbSession) -> RolePublic:
    if body.name is not None:
        require_new_name(ctx.principal, "role:update", role_resource(ctx.role.name), role_resource(body.name))
    return RolePublic.of(await roles_service.update_role(session, role=ctx.role, data=body,
                                                         actor_id=ctx.principal.user_id))


@router.delete("/{id}", status_code=204)
async def delete_role(ctx: Annotated[RoleContext, Depends(role_guard("role:delete"))],
                      session: DbSession) -> Response:
    await roles_service.delete_role(session, role=ctx.role)
    return Response(status_code=204)


@router.get("/{id}/members")
async def role_members(ctx: Annotated[RoleContext, Depends(role_guard("role:get-members"))], session: DbSession,
                       paging: Paging) -> dict[str, Any]:
    users, total = await roles_service.members(session, role=ctx.role, offset=paging.offset,
                                               limit=paging.page_size)
    return page(await users_service.to_public(session, users), total, paging)


@router.post("/{id}/assign", status_code=204)
async def assign(ctx: Annotated[RoleContext, Depends(role_guard("role:assign"))], body: UserIdsRequest,
                 session: DbSession) -> Response:
    await roles_service.assign(session, role=ctx.role, user_ids=body.user_ids)
    return Response(status_code=204)


@router.post("/{id}/unassign", status_code=204)
async def unassign(ctx: Annotated[RoleContext, Depends(role_guard("role:unassign"))], body: UserIdsRequest,
                   session: DbSession) -> Response:
    await roles_service.unassign(session, role=ctx.role, user_ids=body.user_ids)
    return Response(status_code=204)
