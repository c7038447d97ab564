"""Workspaces and their members (OWNER, MEMBER)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from sqlalchemy import delete, func
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from vmx_app.errors import Conflict, Invalid, NotFound
from vmx_app.models import MemberRole, User, Workspace, WorkspaceMember
from vmx_app.models.workspace import MemberPublic, WorkspaceCreate, WorkspacePublic, WorkspaceUpdate
from vmx_app.services.config_events import publish_change


async def member_roles(session: AsyncSession, user_id: uuid.UUID,
                       workspace_ids: list[uuid.UUID] | None = None) -> dict[uuid.UUID, str]:
    stmt = select(WorkspaceMember.workspace_id, WorkspaceMember.role).where(WorkspaceMember.user_id == user_id)
    if workspace_ids is not None:
        stmt = stmt.where(col(WorkspaceMember.workspace_id).in_(workspace_ids))
    return dict((await session.exec(stmt)).all())


async def list_workspaces(session: AsyncSession, *, user_id: uuid.UUID, see_all: bool, offset: int,
                          limit: int) -> tuple[list[WorkspacePublic], int]:
    """Only the caller's workspaces; admins see every workspace."""
    stmt = select(Workspace)
    if not see_all:
        stmt = stmt.join(WorkspaceMember, WorkspaceMember.workspace_id == Workspace.id).where(  # type: ignore[arg-type]
            WorkspaceMember.user_id == user_id)
    total = (await session.exec(select(func.count()).select_from(stmt.subquery()))).one()
    rows = list((await session.exec(stmt.order_by(col(Workspace.name)).offset(offset).limit(limit))).all())
    roles = await member_roles(session, user_id, [w.id for w in rows])
    return [WorkspacePublic.of(w, roles.get(w.id)) for w in rows], total


async def _name_taken(session: AsyncSession, name: str, except_id: uuid.UUID | None = None) -> bool:
    # Names are unique: policies address workspaces by name, so two "acme" would share every grant.
    stmt = select(Workspace.id).where(func.lower(Workspace.name) == name.lower())
    if except_id is not None:
        stmt = stmt.where(Workspace.id != except_id)
    return (await session.exec(stmt)).first() is not None


async def create_workspace(session: AsyncSession, *, data: WorkspaceCreate, owner_id: uuid.UUID) -> Workspace:
    if await _name_taken(session, data.name):
        raise Conflict("A workspace with this name already exists", details=[{"field": "name", "message": "taken"}])
    workspace = Workspace(name=data.name, description=data.description, created_by=owner_id,
                          updated_by=owner_id)
    session.add(workspace)
    await session.flush()
    session.add(WorkspaceMember(workspace_id=workspace.id, user_id=owner_id, role=MemberRole.OWNER.value,
                                created_by=owner_id, updated_by=owner_id))
    await session.flush()
    return workspace


async def update_workspace(session: AsyncSession, *, workspace: Workspace, data: WorkspaceUpdate,
                           actor_id: uuid.UUID) -> Workspace:
    if data.name is not None and data.name != workspace.name:
        if await _name_taken(session, data.name, workspace.id):
            raise Conflict("A workspace with this name already exists", details=[{"field": "name", "message": "taken"}])
        workspace.name = data.name
    if "description" in data.model_fields_set:
        workspace.description = data.description
    workspace.updated_at = datetime.now(UTC)
    workspace.updated_by = actor_id
    session.add(workspace)
    await session.commit()  # before the event, so no gateway reloads the old row
    await publish_change(kind="workspace", id=workspace.id)
    return workspace


async def delete_workspace(session: AsyncSession, *, workspace: Workspace) -> None:
    await session.delete(workspace)  # environments, keys, resources… go with it (ON DELETE CASCADE)
    await session.commit()
    await publish_change(kind="workspace", id=workspace.id)


async def list_members(session: AsyncSession, *, workspace: Workspace, offset: int,
                       limit: int) -> tuple[list[MemberPublic], int]:
    base = select(WorkspaceMember, User).join(User, User.id == WorkspaceMember.user_id).where(  # type: ignore[arg-type]
        WorkspaceMember.workspace_id == workspace.id)
    total = (await session.exec(select(func.count()).select_from(WorkspaceMember).where(
        WorkspaceMember.workspace_id == workspace.id))).one()
    rows = (await session.exec(base.order_by(col(User.email)).offset(offset).limit(limit))).all()
    return [MemberPublic(user_id=u.id, email=u.email, name=u.name, role=m.role, created_at=m.created_at)
            for m, u in rows], total


async def _members(session: AsyncSession, workspace_id: uuid.UUID) -> dict[uuid.UUID, WorkspaceMember]:
    rows = (await session.exec(select(WorkspaceMember).where(WorkspaceMember.workspace_id == workspace_id))).all()
    return {m.user_id: m for m in rows}


def _ensure_an_owner_remains(members: dict[uuid.UUID, WorkspaceMember]) -> None:
    if not any(m.role == MemberRole.OWNER.value for m in members.values()):
        raise Invalid("A workspace must keep at least one owner", code="last_owner")


async def assign_members(session: AsyncSession, *, workspace: Workspace, user_ids: list[uuid.UUID], role: str,
                         actor_id: uuid.UUID) -> None:
    """Add users (or change the role of those already in)."""
    ids = list(dict.fromkeys(user_ids))
    found = set((await session.exec(select(User.id).where(col(User.id).in_(ids)))).all())
    missing = [str(u) for u in ids if u not in found]
    if missing:
        raise NotFound("User not found", details={"userIds": missing})
    members = await _members(session, workspace.id)
    for user_id in ids:
        member = members.get(user_id)
        if member is None:
            member = WorkspaceMember(workspace_id=workspace.id, user_id=user_id, role=role, created_by=actor_id,
                                     updated_by=actor_id)
            members[user_id] = member
        else:
            member.role, member.updated_by, member.updated_at = role, actor_id, datetime.now(UTC)
        session.add(member)
    _ensure_an_owner_remains(members)
    await session.flush()


async def unassign_members(session: AsyncSession, *, workspace: Workspace, user_ids: list[uuid.UUID]) -> None:
    ids = set(user_ids)
    members = await _members(session, workspace.id)
    _ensure_an_owner_remains({k: v for k, v in members.items() if k not in ids})
    await session.exec(delete(WorkspaceMember).where(  # type: ignore[call-overload]
        WorkspaceMember.workspace_id == workspace.id, col(WorkspaceMember.user_id).in_(ids)))
    await session.flush()


async def set_member_role(session: AsyncSession, *, workspace: Workspace, user_id: uuid.UUID, role: str,
                          actor_id: uuid.UUID) -> MemberPublic:
    members = await _members(session, workspace.id)
    member = members.get(user_id)
    if member is None:
        raise NotFound("Member not found")
    member.role, member.updated_by, member.updated_at = role, actor_id, datetime.now(UTC)
    _ensure_an_owner_remains(members)
    session.add(member)
    await session.flush()
    user = await session.get(User, user_id)
    assert user is not None  # the membership row references it
    return MemberPublic(user_id=user.id, email=user.email, name=user.name, role=member.role,
                        created_at=member.created_at)
