"""Where the audit viewer's and the usage API's queries run: the read-only database (`DATABASE_RO_URL`
when set, DESIGN §7), with the same SQLAlchemy Core statements on both databases.

PostgreSQL has `date_trunc(unit, ts, zone)` and `percentile_cont`; SQLite has neither, so on SQLite the
statements run on a synchronous pysqlite connection (in a worker thread, never on the event loop) that
carries two Python functions with PostgreSQL's exact semantics: `vmx_bucket` and the aggregate
`vmx_percentile` (aiosqlite connections cannot take user-defined aggregates).
"""

from __future__ import annotations

import asyncio
import contextlib
import math
import sqlite3
from collections.abc import AsyncIterator, Sequence
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.engine import Engine, Row, make_url

from vmx_app.db import get_engine
from vmx_app.services.usage_time import SQLITE_TIME_FORMAT, truncate
from vmx_app.settings import get_settings

_sync_engines: dict[str, Engine] = {}


def percentile_cont(values: Sequence[float], fraction: float) -> float | None:
    """PostgreSQL's percentile_cont: linear interpolation between the closest ranks, computed in the
    same order of operations (first + (second - first) * proportion) so both give the same float."""
    if not values:
        return None
    ordered = sorted(values)
    position = fraction * (len(ordered) - 1)
    lo = math.floor(position)
    hi = math.ceil(position)
    first = ordered[lo]
    if hi == lo:
        return float(first)
    return first + (ordered[hi] - first) * (position - lo)


class _Percentile:
    """SQLite aggregate `vmx_percentile(value, fraction)`; NULL values are ignored, like PostgreSQL."""

    def __init__(self) -> None:
        self.values: list[float] = []
        self.fraction = 0.5

    def step(self, value: float | None, fraction: float) -> None:
        self.fraction = fraction
        if value is not None:
            self.values.append(value)

    def finalize(self) -> float | None:
        return percentile_cont(self.values, self.fraction)


def _bucket(stored: str | None, unit: str, zone: str) -> str | None:
    """SQLite scalar `vmx_bucket(created_at, unit, zone)`: the bucket start, in the stored UTC format."""
    if stored is None:
        return None
    moment = datetime.fromisoformat(stored).replace(tzinfo=UTC)
    return truncate(moment, unit, zone).astimezone(UTC).strftime(SQLITE_TIME_FORMAT)


def _register(dbapi_connection: sqlite3.Connection, _record: Any) -> None:
    dbapi_connection.create_function("vmx_bucket", 3, _bucket, deterministic=True)
    dbapi_connection.create_aggregate("vmx_percentile", 2, _Percentile)  # type: ignore[arg-type]
    dbapi_connection.execute("PRAGMA busy_timeout=5000")


def is_sqlite() -> bool:
    return make_url(get_settings().async_readonly_database_url).get_backend_name() == "sqlite"


def _sqlite_engine() -> Engine:
    url = make_url(get_settings().async_readonly_database_url).set(drivername="sqlite")
    key = url.render_as_string(hide_password=False)
    if key not in _sync_engines:
        engine = sa.create_engine(url, connect_args={"timeout": 30})
        event.listen(engine, "connect", _register)
        _sync_engines[key] = engine
    return _sync_engines[key]


def _fetch_sqlite(statement: sa.Executable) -> list[Row[Any]]:
    with _sqlite_engine().connect() as conn:
        return list(conn.execute(statement).all())


async def fetch_all(statement: sa.Executable) -> list[Row[Any]]:
    """Every row of a read-only statement, on the read replica when one is configured."""
    if is_sqlite():
        return await asyncio.to_thread(_fetch_sqlite, statement)
    async with get_engine(readonly=True).connect() as conn:
        return list((await conn.execute(statement)).all())


def _positional(statement: sa.Executable, dialect: Any) -> tuple[str, list[Any]]:
    """The statement's SQL with $n placeholders and its arguments, bind processors applied."""
    compiled: Any = statement.compile(dialect=dialect)
    processors = compiled._bind_processors
    names = compiled.positiontup or []
    return str(compiled), [processors[n](compiled.params[n]) if n in processors else compiled.params[n]
                           for n in names]


# A one-column statement's text comes out exactly as it is, one row per line: CSV with \x02 as delimiter
# and \x01 as quote, which text never holds raw (JSON from PostgreSQL escapes every control character).
RAW_LINES: dict[str, Any] = {"format": "csv", "delimiter": "\x02", "quote": "\x01"}


async def copy_lines(statement: sa.Executable, **copy_options: Any) -> AsyncIterator[bytes]:
    """The rows of a statement streamed by PostgreSQL's COPY … TO STDOUT in `copy_options`' format
    (asyncpg's names: format, header, delimiter, quote…): no per-row work in Python.
    Memory holds a few chunks: asyncpg stops reading while the queue is full."""
    queue: asyncio.Queue[bytes | None] = asyncio.Queue(maxsize=4)

    async def put(data: Any) -> None:
        await queue.put(bytes(data))  # asyncpg hands a bytearray: Starlette sends bytes

    async def run() -> None:
        try:
            async with get_engine(readonly=True).connect() as conn:
                sql, args = _positional(statement, conn.dialect)
                driver: Any = (await conn.get_raw_connection()).driver_connection
                await driver.copy_from_query(sql, *args, output=put, **copy_options)
        finally:
            await queue.put(None)

    task = asyncio.create_task(run(), name="vmx-audit-copy")
    try:
        while (chunk := await queue.get()) is not None:
            yield chunk
        await task  # its error, if COPY failed
    finally:
        if not task.done():  # the reader went away: stop the COPY
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task


def dispose_sync_engines() -> None:
    for engine in _sync_engines.values():
        engine.dispose()
    _sync_engines.clear()
