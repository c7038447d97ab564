"""Workspaces and their members as the signed-in principal: scope, policy and OWNER checks with the steps
in one place (the API's workspace guards run the same `vmx_app.auth.authorization` checks). Ids are the
console's strings (a malformed id is a 404); each use case takes the caller's session or opens its own."""

from __future__ import annotations

from dataclasses import dataclass

from sqlmodel.ext.asyncio.session import AsyncSession

from vmx_app.auth.authorization import Principal, allowed, require, require_new_name
from vmx_app.auth.policy import environment_resource, workspace_resource
from vmx_app.models import Environment, Workspace
from vmx_app.models.workspace import (
    MemberAssign,
    MemberPublic,
    MemberRoleUpdate,
    WorkspaceCreate,
    WorkspacePublic,
    WorkspaceUpdate,
)
from vmx_app.services import environments as env_service
from vmx_app.services import workspaces as ws_service
from vmx_app.services.access import is_owner, owned_workspace_for, parse_id, user_id_by_email, workspace_for
from vmx_app.services.unit_of_work import use_session


async def list_workspaces_as(principal: Principal, *, offset: int, limit: int,
                             session: AsyncSession | None = None) -> tuple[list[WorkspacePublic], int]:
    """The principal's workspaces (admins: all)."""
    require(principal, "workspace:list", workspace_resource())
    async with use_session(session, readonly=True) as s:
        return await ws_service.list_workspaces(s, user_id=principal.user_id, see_all=principal.is_admin,
                                                offset=offset, limit=limit)


async def create_workspace_as(principal: Principal, data: WorkspaceCreate, *,
                              session: AsyncSession | None = None) -> Workspace:
    """`workspace:create`; the creator becomes its OWNER."""
    require(principal, "workspace:create", workspace_resource())
    async with use_session(session) as s:
        return await ws_service.create_workspace(s, data=data, owner_id=principal.user_id)


async def update_workspace_as(principal: Principal, workspace_id: str, data: WorkspaceUpdate) -> Workspace:
    async with use_session(None) as s:
        workspace = await owned_workspace_for(s, principal, workspace_id, "workspace:update")
        require_new_name(principal, "workspace:update", workspace_resource(workspace.name),
                         workspace_resource(data.name or workspace.name))
        return await ws_service.update_workspace(s, workspace=workspace, data=data, actor_id=principal.user_id)


async def delete_workspace_as(principal: Principal, workspace_id: str) -> str:
    """Returns the deleted workspace's name (for the console's toast)."""
    async with use_session(None) as s:
        workspace = await owned_workspace_for(s, principal, workspace_id, "workspace:delete")
        name = workspace.name
        await ws_service.delete_workspace(s, workspace=workspace)
    return name


async def list_members_as(principal: Principal, workspace_id: str, *,
                          limit: int) -> tuple[Workspace, list[MemberPublic], bool]:
    """The workspace, its members, and whether the principal owns it (admins count as owners)."""
    async with use_session(None, readonly=True) as s:
        workspace = await workspace_for(s, principal, workspace_id, "workspace:get-members")
        members, _ = await ws_service.list_members(s, workspace=workspace, offset=0, limit=limit)
        return workspace, members, await is_owner(s, principal, workspace)


async def add_member_as(principal: Principal, workspace_id: str, email: str, role: str) -> None:
    """Owners add members by email (the API's `assign` takes user ids)."""
    async with use_session(None) as s:
        workspace = await owned_workspace_for(s, principal, workspace_id, "workspace:assign")
        body = MemberAssign(user_ids=[await user_id_by_email(s, email)], role=role)
        await ws_service.assign_members(s, workspace=workspace, user_ids=body.user_ids, role=body.role,
                                        actor_id=principal.user_id)


async def set_member_role_as(principal: Principal, workspace_id: str, user_id: str, role: str) -> None:
    body = MemberRoleUpdate(role=role)
    async with use_session(None) as s:
        workspace = await owned_workspace_for(s, principal, workspace_id, "workspace:update-member-role")
        await ws_service.set_member_role(s, workspace=workspace, user_id=parse_id(user_id, "Member"),
                                         role=body.role, actor_id=principal.user_id)


async def remove_member_as(principal: Principal, workspace_id: str, user_id: str) -> None:
    async with use_session(None) as s:
        workspace = await owned_workspace_for(s, principal, workspace_id, "workspace:unassign")
        await ws_service.unassign_members(s, workspace=workspace, user_ids=[parse_id(user_id, "Member")])


@dataclass(frozen=True, slots=True)
class Switcher:
    """The console's workspace/environment switcher: what the principal sees and the settled selection."""

    workspaces: list[WorkspacePublic]
    workspace_id: str  # "" when they see no workspace
    environments: list[Environment]  # of the selected workspace, if they may list them


async def switcher_for(principal: Principal, workspace_id: str, *, limit: int) -> Switcher:
    """The principal's workspaces (admins: all); the selection stays on `workspace_id` if they see it, else
    moves to the first one."""
    async with use_session(None, readonly=True) as s:
        rows, _ = await ws_service.list_workspaces(s, user_id=principal.user_id, see_all=principal.is_admin,
                                                   offset=0, limit=limit)
        selected = next((w for w in rows if str(w.id) == workspace_id), rows[0] if rows else None)
        envs: list[Environment] = []
        if selected is not None and allowed(principal, "environment:list", environment_resource(selected.name)):
            workspace = await s.get(Workspace, selected.id)
            if workspace is not None:
                envs, _ = await env_service.list_environments(s, workspace=workspace, offset=0, limit=limit)
    return Switcher(rows, str(selected.id) if selected is not None else "", envs)
