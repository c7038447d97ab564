"""Password login, login throttling, session issue/revocation and password changes."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import update
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from vmx_app.auth.passwords import hash_password_async, needs_rehash, verify_password_async
from vmx_app.auth.tokens import new_session_token
from vmx_app.db import session_scope
from vmx_app.errors import Invalid, Unauthenticated
from vmx_app.models import AuthSession, User, UserState
from vmx_app.services import login_throttle
from vmx_app.services.playground import revoke_session_keys
from vmx_app.settings import get_settings

INVALID_CREDENTIALS = "Invalid email or password"


@dataclass(frozen=True, slots=True)
class IssuedSession:
    token: str
    expires_in: int
    session_id: uuid.UUID
    user_id: uuid.UUID


def _now() -> datetime:
    return datetime.now(UTC)


def normalize_email(email: str) -> str:
    return email.strip().lower()[:320]


async def issue_session(session: AsyncSession, *, user: User, source_ip: str | None,
                        user_agent: str | None) -> IssuedSession:
    ttl = get_settings().vmx_session_ttl_seconds
    token, token_hash = new_session_token()
    auth_session = AuthSession(token_hash=token_hash, user_id=user.id, expires_at=_now() + timedelta(seconds=ttl),
                               source_ip=(source_ip or None) and source_ip[:64],
                               user_agent=(user_agent or None) and user_agent[:500])
    session.add(auth_session)
    user.last_login_at = _now()
    session.add(user)
    await session.flush()
    return IssuedSession(token=token, expires_in=ttl, session_id=auth_session.id, user_id=user.id)


async def login(*, email: str, password: str, source_ip: str, user_agent: str | None) -> IssuedSession:
    """Email + password → a new session. Unknown email, wrong password and inactive account all
    answer the same 401, after the same argon2 work."""
    email, source_ip = normalize_email(email), source_ip[:64]
    async with session_scope() as session:
        await login_throttle.check(session, email=email, source_ip=source_ip)
        user = (await session.exec(select(User).where(User.email == email))).first()
    # argon2 runs outside the DB session so a slow hash never holds a pooled connection.
    ok = await verify_password_async(password, user.password_hash if user else None)
    if not ok or user is None or user.state == UserState.INACTIVE.value:
        await login_throttle.record_failure(email=email, source_ip=source_ip)
        raise Unauthenticated(INVALID_CREDENTIALS, code="invalid_credentials")
    new_hash = await hash_password_async(password) if needs_rehash(user.password_hash or "") else None
    async with session_scope() as session:
        user = await session.get(User, user.id)
        if user is None:  # deleted between the two steps
            raise Unauthenticated(INVALID_CREDENTIALS, code="invalid_credentials")
        if new_hash:
            user.password_hash = new_hash
        await login_throttle.forget_pair(session, email=email, source_ip=source_ip)
        return await issue_session(session, user=user, source_ip=source_ip, user_agent=user_agent)


async def revoke_session(session: AsyncSession, session_id: uuid.UUID) -> None:
    await session.exec(update(AuthSession).where(  # type: ignore[call-overload]
        AuthSession.id == session_id, col(AuthSession.revoked_at).is_(None)).values(revoked_at=_now()))


async def revoke_user_sessions(session: AsyncSession, user_id: uuid.UUID, *,
                               keep: uuid.UUID | None = None) -> None:
    """End every live session of a user (password change, deactivation), optionally but one."""
    stmt = update(AuthSession).where(AuthSession.user_id == user_id, col(AuthSession.revoked_at).is_(None))
    if keep is not None:
        stmt = stmt.where(AuthSession.id != keep)
    await session.exec(stmt.values(revoked_at=_now()))  # type: ignore[call-overload]


async def change_password(*, user_id: uuid.UUID, session_id: uuid.UUID | None, current_password: str,
                          new_password: str) -> None:
    async with session_scope() as session:
        user = await session.get(User, user_id)
    if user is None:
        raise Unauthenticated("Session is invalid or has expired")
    if not await verify_password_async(current_password, user.password_hash):
        raise Invalid("The current password is not correct", code="invalid_current_password",
                      details=[{"field": "currentPassword", "message": "does not match"}])
    if current_password == new_password:
        raise Invalid("The new password must differ from the current one",
                      details=[{"field": "newPassword", "message": "must differ from the current password"}])
    new_hash = await hash_password_async(new_password)
    async with session_scope() as session:
        user = await session.get(User, user_id)
        if user is None:
            raise Unauthenticated("Session is invalid or has expired")
        user.password_hash = new_hash
        if user.state == UserState.CHANGE_PASSWORD.value:
            user.state = UserState.ACTIVE.value
        user.updated_at = _now()
        session.add(user)
        # Whoever may have learnt the old password loses their sessions; this one stays.
        await revoke_user_sessions(session, user_id, keep=session_id)
    await revoke_session_keys(user_id=user_id, keep_session=session_id)  # and those sessions' playground keys
