"""Database engines (write and read-only) and sessions."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker, create_async_engine
from sqlmodel.ext.asyncio.session import AsyncSession

from vmx_app.data_dir import ensure_private_sqlite
from vmx_app.settings import Settings, get_settings

_engines: dict[str, AsyncEngine] = {}
_sessionmakers: dict[str, async_sessionmaker[AsyncSession]] = {}


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    # WAL lets readers run while the audit writer writes; foreign keys are off by default in SQLite.
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=5000")
    cursor.close()


def _make_engine(url: str) -> AsyncEngine:
    if url.startswith("sqlite"):
        engine = create_async_engine(url, connect_args={"timeout": 30})
        event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
        return engine
    return create_async_engine(url, pool_size=10, max_overflow=20, pool_pre_ping=True)


def get_engine(settings: Settings | None = None, *, readonly: bool = False) -> AsyncEngine:
    settings = settings or get_settings()
    url = settings.async_readonly_database_url if readonly else settings.async_database_url
    if url not in _engines:
        if settings.is_embedded:
            ensure_private_sqlite(settings.sqlite_path)
        _engines[url] = _make_engine(url)
    return _engines[url]


def get_sessionmaker(*, readonly: bool = False) -> async_sessionmaker[AsyncSession]:
    engine = get_engine(readonly=readonly)
    key = str(engine.url)
    if key not in _sessionmakers:
        _sessionmakers[key] = async_sessionmaker(engine, class_=AsyncSession, expire_on_commit=False)
    return _sessionmakers[key]


@asynccontextmanager
async def session_scope(*, readonly: bool = False) -> AsyncIterator[AsyncSession]:
    """A session that commits on success and rolls back on error."""
    async with get_sessionmaker(readonly=readonly)() as session:
        try:
            yield session
            if not readonly:
                await session.commit()
        except BaseException:
            await session.rollback()
            raise


async def dispose_engines() -> None:
    for engine in list(_engines.values()):
        await engine.dispose()
    _engines.clear()
    _sessionmakers.clear()
