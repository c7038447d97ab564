"""Users: create, read, update, delete; role names per user."""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Iterable
from datetime import UTC, datetime

from sqlalchemy import func
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from vmx_app.auth.passwords import hash_password_async
from vmx_app.errors import Conflict, Invalid, not_found
from vmx_app.models import Role, RoleAssignment, User, UserState
from vmx_app.models.user import UserCreate, UserPublic, UserUpdate
from vmx_app.services.playground import revoke_session_keys
from vmx_app.services.sessions import revoke_user_sessions

ADMIN_ROLE = "admin"


async def role_names_by_user(session: AsyncSession, user_ids: Iterable[uuid.UUID]) -> dict[uuid.UUID, list[str]]:
    ids = list(user_ids)
    result: dict[uuid.UUID, list[str]] = defaultdict(list)
    if not ids:
        return result
    rows = (await session.exec(
        select(RoleAssignment.user_id, Role.name).join(Role, Role.id == RoleAssignment.role_id)  # type: ignore[arg-type]
        .where(col(RoleAssignment.user_id).in_(ids))
    )).all()
    for user_id, name in rows:
        result[user_id].append(name)
    return result


async def to_public(session: AsyncSession, users: list[User]) -> list[UserPublic]:
    roles = await role_names_by_user(session, (u.id for u in users))
    return [UserPublic.of(u, roles.get(u.id, [])) for u in users]


async def get_user(session: AsyncSession, user_id: uuid.UUID) -> User:
    user = await session.get(User, user_id)
    if user is None:
        raise not_found("User")
    return user


async def list_users(session: AsyncSession, *, offset: int, limit: int) -> tuple[list[UserPublic], int]:
    total = (await session.exec(select(func.count()).select_from(User))).one()
    users = list((await session.exec(
        select(User).order_by(col(User.email)).offset(offset).limit(limit))).all())
    return await to_public(session, users), total


async def email_taken(session: AsyncSession, email: str, *, except_id: uuid.UUID | None = None) -> bool:
    stmt = select(User.id).where(User.email == email)
    if except_id is not None:
        stmt = stmt.where(User.id != except_id)
    return (await session.exec(stmt)).first() is not None


async def roles_by_name(session: AsyncSession, names: Iterable[str]) -> list[Role]:
    wanted = sorted(set(names))
    if not wanted:
        return []
    roles = list((await session.exec(select(Role).where(col(Role.name).in_(wanted)))).all())
    missing = sorted(set(wanted) - {r.name for r in roles})
    if missing:
        raise Invalid(f"Unknown role(s): {', '.join(missing)}",
                      details=[{"field": "roles", "message": f"unknown role {name}"} for name in missing])
    return roles


async def create_user(session: AsyncSession, *, data: UserCreate, actor_id: uuid.UUID | None,
                      roles: list[Role] | None = None) -> User:
    if await email_taken(session, data.email):
        raise Conflict("A user with this email already exists", details=[{"field": "email", "message": "taken"}])
    user = User(email=data.email, name=data.name or data.email.split("@")[0], first_name=data.first_name,
                last_name=data.last_name, password_hash=await hash_password_async(data.password),
                state=data.state, created_by=actor_id, updated_by=actor_id)
    session.add(user)
    await session.flush()
    for role in roles or []:
        session.add(RoleAssignment(role_id=role.id, user_id=user.id))
    await session.flush()
    return user


async def active_admin_ids(session: AsyncSession) -> list[uuid.UUID]:
    return list((await session.exec(
        select(User.id).join(RoleAssignment, RoleAssignment.user_id == User.id)  # type: ignore[arg-type]
        .join(Role, Role.id == RoleAssignment.role_id)  # type: ignore[arg-type]
        .where(Role.name == ADMIN_ROLE, User.state != UserState.INACTIVE.value)
    )).all())


async def is_last_admin(session: AsyncSession, user_id: uuid.UUID) -> bool:
    """True when this user is the only active holder of the admin role (removing them locks everyone out)."""
    return await active_admin_ids(session) == [user_id]


async def update_user(session: AsyncSession, *, user: User, data: UserUpdate, actor_id: uuid.UUID) -> User:
    fields = data.model_fields_set
    if "email" in fields and data.email and data.email != user.email:
        if await email_taken(session, data.email, except_id=user.id):
            raise Conflict("A user with this email already exists", details=[{"field": "email", "message": "taken"}])
        user.email = data.email
    for name in ("name", "first_name", "last_name"):
        if name in fields and (name != "name" or getattr(data, name) is not None):
            setattr(user, name, getattr(data, name))
    revoke = False
    if data.password is not None:
        user.password_hash = await hash_password_async(data.password)
        revoke = True
    if data.state is not None and data.state != user.state:
        if data.state == UserState.INACTIVE.value and await is_last_admin(session, user.id):
            raise Invalid("The last active admin cannot be deactivated", code="last_admin",
                          details=[{"field": "state", "message": "last active admin"}])
        revoke = revoke or data.state == UserState.INACTIVE.value
        user.state = data.state
    user.updated_at = datetime.now(UTC)
    user.updated_by = actor_id
    session.add(user)
    if revoke:
        # A reset password or a deactivation must end the user's open sessions.
        await revoke_user_sessions(session, user.id)
        await revoke_session_keys(user_id=user.id, session=session)  # and those sessions' playground keys
    await session.flush()
    return user


async def delete_user(session: AsyncSession, *, user: User, actor_id: uuid.UUID) -> None:
    if user.id == actor_id:
        raise Invalid("You cannot delete your own account")
    if await is_last_admin(session, user.id):
        raise Invalid("The last active admin cannot be deleted", code="last_admin")
    await session.delete(user)
    await session.flush()
