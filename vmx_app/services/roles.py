"""Roles with policy documents, and who holds them."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from sqlalchemy import delete, func
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from vmx_app.errors import Conflict, Invalid, NotFound, not_found
from vmx_app.models import Role, RoleAssignment, User
from vmx_app.models.role import RoleCreate, RoleUpdate
from vmx_app.services.users import ADMIN_ROLE, active_admin_ids


async def get_role(session: AsyncSession, role_id: uuid.UUID) -> Role:
    role = await session.get(Role, role_id)
    if role is None:
        raise not_found("Role")
    return role


async def list_roles(session: AsyncSession, *, offset: int, limit: int) -> tuple[list[Role], int]:
    total = (await session.exec(select(func.count()).select_from(Role))).one()
    roles = list((await session.exec(select(Role).order_by(col(Role.name)).offset(offset).limit(limit))).all())
    return roles, total


async def _name_taken(session: AsyncSession, name: str, except_id: uuid.UUID | None = None) -> bool:
    stmt = select(Role.id).where(Role.name == name)
    if except_id is not None:
        stmt = stmt.where(Role.id != except_id)
    return (await session.exec(stmt)).first() is not None


async def create_role(session: AsyncSession, *, data: RoleCreate, actor_id: uuid.UUID) -> Role:
    if await _name_taken(session, data.name):
        raise Conflict("A role with this name already exists", details=[{"field": "name", "message": "taken"}])
    role = Role(name=data.name, description=data.description, policy=data.policy.to_json(), is_system=False,
                created_by=actor_id, updated_by=actor_id)
    session.add(role)
    await session.flush()
    return role


async def update_role(session: AsyncSession, *, role: Role, data: RoleUpdate, actor_id: uuid.UUID) -> Role:
    fields = data.model_fields_set
    if data.name is not None and data.name != role.name:
        if role.is_system:
            raise Invalid("System roles cannot be renamed", code="system_role",
                          details=[{"field": "name", "message": "system role"}])
        if await _name_taken(session, data.name, role.id):
            raise Conflict("A role with this name already exists", details=[{"field": "name", "message": "taken"}])
        role.name = data.name
    if "description" in fields:
        role.description = data.description
    if data.policy is not None:
        if role.name == ADMIN_ROLE and role.is_system:
            # Editing the admin role could lock every administrator out.
            raise Invalid("The admin role's policy cannot be changed", code="system_role",
                          details=[{"field": "policy", "message": "admin role"}])
        role.policy = data.policy.to_json()
    role.updated_at = datetime.now(UTC)
    role.updated_by = actor_id
    session.add(role)
    await session.flush()
    return role


async def delete_role(session: AsyncSession, *, role: Role) -> None:
    if role.is_system:
        raise Invalid(f"The system role {role.name} cannot be deleted", code="system_role")
    await session.delete(role)
    await session.flush()


async def members(session: AsyncSession, *, role: Role, offset: int, limit: int) -> tuple[list[User], int]:
    base = select(User).join(RoleAssignment, RoleAssignment.user_id == User.id).where(  # type: ignore[arg-type]
        RoleAssignment.role_id == role.id)
    total = (await session.exec(select(func.count()).select_from(base.subquery()))).one()
    users = list((await session.exec(base.order_by(col(User.email)).offset(offset).limit(limit))).all())
    return users, total


async def _existing_users(session: AsyncSession, user_ids: list[uuid.UUID]) -> list[uuid.UUID]:
    found = set((await session.exec(select(User.id).where(col(User.id).in_(user_ids)))).all())
    missing = [str(u) for u in user_ids if u not in found]
    if missing:
        raise NotFound("User not found", details={"userIds": missing})
    return list(dict.fromkeys(user_ids))


async def assign(session: AsyncSession, *, role: Role, user_ids: list[uuid.UUID]) -> None:
    ids = await _existing_users(session, user_ids)
    held = set((await session.exec(select(RoleAssignment.user_id).where(
        RoleAssignment.role_id == role.id, col(RoleAssignment.user_id).in_(ids)))).all())
    for user_id in ids:
        if user_id not in held:
            session.add(RoleAssignment(role_id=role.id, user_id=user_id))
    await session.flush()


async def unassign(session: AsyncSession, *, role: Role, user_ids: list[uuid.UUID]) -> None:
    ids = list(dict.fromkeys(user_ids))
    if role.name == ADMIN_ROLE:
        remaining = set(await active_admin_ids(session)) - set(ids)
        if not remaining:
            raise Invalid("The last active admin cannot lose the admin role", code="last_admin")
    await session.exec(delete(RoleAssignment).where(  # type: ignore[call-overload]
        RoleAssignment.role_id == role.id, col(RoleAssignment.user_id).in_(ids)))
    await session.flush()
