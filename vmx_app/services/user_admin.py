"""User administration as the signed-in principal: the checks and the steps in one place, so the API
(`api/routers/users.py`) and the console (`pages/users.py`) cannot disagree on who may do what.

Each use case takes the caller's session (an API request's) or opens its own (a console handler's).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable

from sqlmodel.ext.asyncio.session import AsyncSession

from vmx_app.auth.authorization import Principal, require
from vmx_app.auth.policy import role_resource, user_resource
from vmx_app.models import User
from vmx_app.models.user import UserCreate, UserPublic, UserUpdate
from vmx_app.services import roles as roles_service
from vmx_app.services import users as users_service
from vmx_app.services.unit_of_work import use_session


async def list_users_as(principal: Principal, *, offset: int, limit: int,
                        session: AsyncSession | None = None) -> tuple[list[UserPublic], int]:
    require(principal, "user:list", user_resource())
    async with use_session(session, readonly=True) as s:
        return await users_service.list_users(s, offset=offset, limit=limit)


async def role_names(*, limit: int) -> list[str]:
    """The roles a user form offers (each assignment is checked when the form is saved)."""
    async with use_session(None, readonly=True) as s:
        roles, _ = await roles_service.list_roles(s, offset=0, limit=limit)
    return [r.name for r in roles]


async def create_user_as(principal: Principal, data: UserCreate, *, session: AsyncSession | None = None) -> User:
    """`user:create`, then `role:assign` on each role the new user gets."""
    require(principal, "user:create", user_resource())
    async with use_session(session) as s:
        roles = await users_service.roles_by_name(s, data.roles)
        for role in roles:
            require(principal, "role:assign", role_resource(role.name))
        return await users_service.create_user(s, data=data, actor_id=principal.user_id, roles=roles)


async def update_user_as(principal: Principal, user_id: uuid.UUID, data: UserUpdate, *,
                         roles: Iterable[str] | None = None, session: AsyncSession | None = None) -> User:
    """`user:update`; with `roles`, the user ends up holding exactly those (`role:assign` / `role:unassign`
    on each one that changes). A refused role undoes the whole change (one transaction)."""
    async with use_session(session) as s:
        user = await users_service.get_user(s, user_id)
        require(principal, "user:update", user_resource(user.email))
        held = set((await users_service.role_names_by_user(s, [user.id])).get(user.id, []))
        await users_service.update_user(s, user=user, data=data, actor_id=principal.user_id)
        if roles is None:
            return user
        wanted = set(roles)
        for role in await users_service.roles_by_name(s, wanted ^ held):
            if role.name in wanted:
                require(principal, "role:assign", role_resource(role.name))
                await roles_service.assign(s, role=role, user_ids=[user.id])
            else:
                require(principal, "role:unassign", role_resource(role.name))
                await roles_service.unassign(s, role=role, user_ids=[user.id])
        return user


async def delete_user_as(principal: Principal, user_id: uuid.UUID, *, session: AsyncSession | None = None) -> str:
    """`user:delete` on the user; returns their email (for the console's toast)."""
    async with use_session(session) as s:
        user = await users_service.get_user(s, user_id)
        email = user.email
        require(principal, "user:delete", user_resource(email))
        await users_service.delete_user(s, user=user, actor_id=principal.user_id)
    return email
