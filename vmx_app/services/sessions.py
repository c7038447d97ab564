"""Password login, login throttling, session issue/revocation and password changes."""

from __future__ import annotations

import math
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import delete, func, update
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from vmx_app.auth.passwords import hash_password_async, needs_rehash, verify_password_async
from vmx_app.auth.tokens import new_session_token
from vmx_app.db import session_scope
from vmx_app.errors import Invalid, RateLimited, Unauthenticated
from vmx_app.models import AuthSession, LoginAttempt, User, UserState
from vmx_app.settings import get_settings

# Failed logins tolerated inside the window before answering 429: per account, and per client IP
# (higher, since many users can sit behind one NAT).
ACCOUNT_MAX_FAILURES = 5
IP_MAX_FAILURES = 20
FAILURE_WINDOW = timedelta(minutes=15)

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


async def _retry_after(session: AsyncSession, column: object, value: str, limit: int,
                       now: datetime) -> int | None:
    """Seconds until fewer than `limit` failures remain in the window, or None when under the limit."""
    since = now - FAILURE_WINDOW
    where = (column == value, col(LoginAttempt.created_at) > since)
    count = (await session.exec(select(func.count()).select_from(LoginAttempt).where(*where))).one()
    if count < limit:
        return None
    # The window frees up when the (count - limit + 1)-th oldest failure ages out.
    pivot = (await session.exec(
        select(LoginAttempt.created_at).where(*where).order_by(col(LoginAttempt.created_at))
        .offset(count - limit).limit(1)
    )).one()
    return max(1, math.ceil((pivot + FAILURE_WINDOW - now).total_seconds()))


async def check_throttle(session: AsyncSession, *, email: str, source_ip: str) -> None:
    now = _now()
    waits = [
        await _retry_after(session, LoginAttempt.email, email, ACCOUNT_MAX_FAILURES, now),
        await _retry_after(session, LoginAttempt.source_ip, source_ip, IP_MAX_FAILURES, now),
    ]
    wait = max((w for w in waits if w is not None), default=None)
    if wait is not None:
        raise RateLimited("Too many failed logins; try again later", retry_after=wait, code="too_many_attempts",
                          details={"retryAfterSeconds": wait})


async def record_failure(*, email: str, source_ip: str) -> None:
    async with session_scope() as session:
        session.add(LoginAttempt(email=email, source_ip=source_ip[:64]))
        # Rows older than the window no longer matter; pruning here keeps the table small.
        await session.exec(delete(LoginAttempt).where(  # type: ignore[call-overload]
            col(LoginAttempt.created_at) < _now() - FAILURE_WINDOW))


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
    email = normalize_email(email)
    async with session_scope() as session:
        await check_throttle(session, email=email, source_ip=source_ip)
        user = (await session.exec(select(User).where(User.email == email))).first()
    # argon2 runs outside the DB session so a slow hash never holds a pooled connection.
    ok = await verify_password_async(password, user.password_hash if user else None)
    if not ok or user is None or user.state == UserState.INACTIVE.value:
        await record_failure(email=email, source_ip=source_ip)
        raise Unauthenticated(INVALID_CREDENTIALS, code="invalid_credentials")
    new_hash = await hash_password_async(password) if needs_rehash(user.password_hash or "") else None
    async with session_scope() as session:
        user = await session.get(User, user.id)
        if user is None:  # deleted between the two steps
            raise Unauthenticated(INVALID_CREDENTIALS, code="invalid_credentials")
        if new_hash:
            user.password_hash = new_hash
        await session.exec(delete(LoginAttempt).where(LoginAttempt.email == email))  # type: ignore[call-overload]
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
