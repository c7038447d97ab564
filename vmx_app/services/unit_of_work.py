"""The session a use case runs in: the caller's (an API request's) or its own (a console handler's)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from sqlmodel.ext.asyncio.session import AsyncSession

from vmx_app.db import session_scope


@asynccontextmanager
async def use_session(session: AsyncSession | None, *, readonly: bool = False) -> AsyncIterator[AsyncSession]:
    """`session` as given (its owner commits), or a new one that commits when the use case succeeds."""
    if session is not None:
        yield session
        return
    async with session_scope(readonly=readonly) as own:
        yield own
