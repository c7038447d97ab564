"""Workspaces (`/v1/workspace`) and their members."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Response

from vmx_app.api.deps import (
    CurrentPrincipal,
    DbSession,
    Paging,
    Principal,
    WorkspaceContext,
    page,
    require,
    tag_guard,
    workspace_guard,
)
from vmx_app.auth.authorization import member_role, require_new_name, require_owner
from vmx_app.auth.policy import workspace_resource
from vmx_app.models import MemberRole
from vmx_app.models.workspace import (
    MemberAssign,
    MemberPublic,
    MemberRoleUpdate,
    MemberUnassign,
    WorkspaceCreate,
    WorkspacePublic,
    WorkspaceUpdate,
)
from vmx_app.services import workspace_admin
from vmx_app.services import workspaces as ws_service

router = APIRouter(prefix="/v1/workspace", tags=["workspaces"])


def owner_guard(action: str) -> Callable[..., Awaitable[WorkspaceContext]]:
    """Membership + policy as `workspace_guard`, and the caller must own the workspace (admins exempt)."""
    base = workspace_guard(action)

    async def guard(ws: uuid.UUID, principal: CurrentPrincipal, session: DbSession) -> WorkspaceContext:
        ctx = await base(ws, principal, session)
        await require_owner(session, principal, ctx.workspace)
        return ctx

    return tag_guard(guard, action, "workspace")


@router.get("")
async def list_workspaces(principal: Annotated[Principal, Depends(require("workspace:list", workspace_resource()))],
                          session: DbSession, paging: Paging) -> dict[str, Any]:
    rows, total = await ws_service.list_workspaces(session, user_id=principal.user_id, see_all=principal.is_admin,
                                                   offset=paging.offset, limit=paging.page_size)
    return page(rows, total, paging)


@router.post("", status_code=201, response_model=WorkspacePublic)
async def create_workspace(
        principal: Annotated[Principal, Depends(require("workspace:create", workspace_resource()))],
        body: WorkspaceCreate, session: DbSession) -> WorkspacePublic:
    workspace = await workspace_admin.create_workspace_as(principal, body, session=session)
    return WorkspacePublic.of(workspace, MemberRole.OWNER.value)


async def _public(ctx: WorkspaceContext, session: DbSession) -> WorkspacePublic:
    return WorkspacePublic.of(ctx.workspace, await member_role(session, ctx.workspace.id, ctx.principal.user_id))


@router.get("/{ws}", response_model=WorkspacePublic)
async def get_workspace(ctx: Annotated[WorkspaceContext, Depends(workspace_guard("workspace:get"))],
                        session: DbSession) -> WorkspacePublic:
    return await _public(ctx, session)


@router.put("/{ws}", response_model=WorkspacePublic)
async def update_workspace(ctx: Annotated[WorkspaceContext, Depends(owner_guard("workspace:update"))],
                           body: WorkspaceUpdate, session: DbSession) -> WorkspacePublic:
    if body.name is not None:
        require_new_name(ctx.principal, "workspace:update", workspace_resource(ctx.workspace.name),
                                 workspace_resource(body.name))
    await ws_service.update_workspace(session, workspace=ctx.workspace, data=body, actor_id=ctx.principal.user_id)
    return await _public(ctx, session)


@router.delete("/{ws}", status_code=204)
async def delete_workspace(ctx: Annotated[WorkspaceContext, Depends(owner_guard("workspace:delete"))],
                           session: DbSession) -> Response:
    await ws_service.delete_workspace(session, workspace=ctx.workspace)
    return Response(status_code=204)


@router.get("/{ws}/members")
async def list_members(ctx: Annotated[WorkspaceContext, Depends(workspace_guard("workspace:get-members"))],
                       session: DbSession, paging: Paging) -> dict[str, Any]:
    rows, total = await ws_service.list_members(session, workspace=ctx.workspace, offset=paging.offset,
                                                limit=paging.page_size)
    return page(rows, total, paging)


@router.post("/{ws}/assign", status_code=204)
async def assign_members(ctx: Annotated[WorkspaceContext, Depends(owner_guard("workspace:assign"))],
                         body: MemberAssign, session: DbSession) -> Response:
    await ws_service.assign_members(session, workspace=ctx.workspace, user_ids=body.user_ids, role=body.role,
                                    actor_id=ctx.principal.user_id)
    return Response(status_code=204)


@router.post("/{ws}/unassign", status_code=204)
async def unassign_members(ctx: Annotated[WorkspaceContext, Depends(owner_guard("workspace:unassign"))],
                           body: MemberUnassign, session: DbSession) -> Response:
    await ws_service.unassign_members(session, workspace=ctx.workspace, user_ids=body.user_ids)
    return Response(status_code=204)


@router.put("/{ws}/members/{user_id}/role", response_model=MemberPublic)
async def set_member_role(
        ctx: Annotated[WorkspaceContext, Depends(owner_guard("workspace:update-member-role"))],
        user_id: uuid.UUID, body: MemberRoleUpdate, session: DbSession) -> MemberPublic:
    return await ws_service.set_member_role(session, workspace=ctx.workspace, user_id=user_id, role=body.role,
                                            actor_id=ctx.principal.user_id)
