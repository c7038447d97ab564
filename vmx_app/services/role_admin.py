"""Role administration as the signed-in principal: the checks and the steps in one place for the API
(`api/routers/roles.py`) and the console (`pages/roles.py`). Each use case takes the caller's session or
opens its own."""

from __future__ import annotations

import uuid
from typing import Any

from sqlmodel.ext.asyncio.session import AsyncSession

from vmx_app.auth.authorization import Principal, require, require_new_name
from vmx_app.auth.policy import parse_policy, role_resource
from vmx_app.models import Role
from vmx_app.models.role import RoleCreate, RoleUpdate
from vmx_app.services import roles as roles_service
from vmx_app.services.unit_of_work import use_session


async def list_roles_as(principal: Principal, *, offset: int, limit: int,
                        session: AsyncSession | None = None) -> tuple[list[Role], int]:
    require(principal, "role:list", role_resource())
    async with use_session(session, readonly=True) as s:
        return await roles_service.list_roles(s, offset=offset, limit=limit)


async def create_role_as(principal: Principal, data: RoleCreate, *, session: AsyncSession | None = None) -> Role:
    require(principal, "role:create", role_resource())
    async with use_session(session) as s:
        return await roles_service.create_role(s, data=data, actor_id=principal.user_id)


async def edit_role_as(principal: Principal, role_id: uuid.UUID, *, name: str, description: str | None,
                       policy: dict[str, Any]) -> Role:
    """The console's editor saves the whole form: only what differs is written, because system roles
    refuse any policy write and any rename (even to the same document or name)."""
    async with use_session(None) as s:
        role = await roles_service.get_role(s, role_id)
        require(principal, "role:update", role_resource(role.name))
        changes: dict[str, Any] = {"description": description}
        if parse_policy(policy).to_json() != role.policy:
            changes["policy"] = policy
        if name != role.name:
            require_new_name(principal, "role:update", role_resource(role.name), role_resource(name))
            changes["name"] = name
        return await roles_service.update_role(s, role=role, data=RoleUpdate(**changes), actor_id=principal.user_id)


async def delete_role_as(principal: Principal, role_id: uuid.UUID, *, session: AsyncSession | None = None) -> str:
    """`role:delete` on the role; returns its name (for the console's toast)."""
    async with use_session(session) as s:
        role = await roles_service.get_role(s, role_id)
        name = role.name
        require(principal, "role:delete", role_resource(name))
        await roles_service.delete_role(s, role=role)
    return name
