"""Login throttling on (account, source IP) with a growing delay, plus a per-IP ceiling.

Failures are counted per pair, so guessing an account's password from one address slows that address
down (1 s, 2 s, 4 s … up to 15 min between tries) while the account's owner, from anywhere else, still
logs in: nobody can lock an account out by knowing its email. One address spraying many accounts hits
the per-IP ceiling. Failures live in the `login_attempts` table, shared by every worker and pod like the
sessions themselves (which live in the database in both profiles), and pruned past the window.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta

from sqlalchemy import delete, func
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from vmx_app.db import session_scope
from vmx_app.errors import RateLimited
from vmx_app.models import LoginAttempt

# Failures of one (account, IP) pair answered at once; each further one doubles the wait before the next.
FREE_FAILURES = 3
MAX_DELAY = timedelta(minutes=15)
# Failures from one IP, whatever the accounts, before it waits for the window to free up (high: many
# people can share one NAT).
IP_MAX_FAILURES = 50
FAILURE_WINDOW = timedelta(minutes=15)


def _now() -> datetime:
    return datetime.now(UTC)


def pair_delay(failures: int) -> timedelta:
    """The wait after the `failures`-th failure of a pair: 0, 0, 0, 1 s, 2 s, 4 s, … capped at 15 min."""
    if failures < FREE_FAILURES:
        return timedelta(0)
    exponent = min(failures - FREE_FAILURES, 20)  # 2^20 s is far past the cap already
    return min(timedelta(seconds=2 ** exponent), MAX_DELAY)


async def _pair_wait(session: AsyncSession, email: str, source_ip: str, now: datetime) -> float:
    where = (LoginAttempt.email == email, LoginAttempt.source_ip == source_ip,
             col(LoginAttempt.created_at) > now - FAILURE_WINDOW)
    count, last = (await session.exec(
        select(func.count(), func.max(LoginAttempt.created_at)).where(*where))).one()
    if not count or last is None:
        return 0.0
    if last.tzinfo is None:  # SQLite hands back naive UTC
        last = last.replace(tzinfo=UTC)
    return (last + pair_delay(count) - now).total_seconds()


async def _ip_wait(session: AsyncSession, source_ip: str, now: datetime) -> float:
    where = (LoginAttempt.source_ip == source_ip, col(LoginAttempt.created_at) > now - FAILURE_WINDOW)
    count = (await session.exec(select(func.count()).select_from(LoginAttempt).where(*where))).one()
    if count < IP_MAX_FAILURES:
        return 0.0
    # The ceiling frees up when the (count - limit + 1)-th oldest failure ages out of the window.
    pivot = (await session.exec(select(LoginAttempt.created_at).where(*where)
                                .order_by(col(LoginAttempt.created_at)).offset(count - IP_MAX_FAILURES).limit(1))).one()
    if pivot.tzinfo is None:
        pivot = pivot.replace(tzinfo=UTC)
    return (pivot + FAILURE_WINDOW - now).total_seconds()


async def check(session: AsyncSession, *, email: str, source_ip: str) -> None:
    """Raise RateLimited (with Retry-After) when this pair or this IP must wait; before any password check,
    so a waiting attacker learns nothing, not even from the right password."""
    now = _now()
    wait = max(await _pair_wait(session, email, source_ip, now), await _ip_wait(session, source_ip, now))
    if wait > 0:
        seconds = max(1, math.ceil(wait))
        raise RateLimited("Too many failed logins; try again later", code="too_many_attempts",
                          retry_after=seconds, details={"retryAfterSeconds": seconds})


async def record_failure(*, email: str, source_ip: str) -> None:
    async with session_scope() as session:
        session.add(LoginAttempt(email=email, source_ip=source_ip[:64]))
        # Rows older than the window no longer matter; pruning here keeps the table small.
        await session.exec(delete(LoginAttempt).where(  # type: ignore[call-overload]
            col(LoginAttempt.created_at) < _now() - FAILURE_WINDOW))


async def forget_pair(session: AsyncSession, *, email: str, source_ip: str) -> None:
    """After a successful login: that address guessed right, its slow-down ends (other addresses keep theirs)."""
    await session.exec(delete(LoginAttempt).where(  # type: ignore[call-overload]
        LoginAttempt.email == email, LoginAttempt.source_ip == source_ip[:64]))
