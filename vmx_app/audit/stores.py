"""Where audit batches go: one store per database, each the cheapest bulk insert its driver has.

The ORM path cost ~60 µs of event-loop CPU per row (bind processors, JSON via the stdlib, deep
copies), which at gateway rates was a fifth of the process. These stores encode each record once
(orjson for JSON columns) and hand the whole batch to the driver in one call:
- SQLite: `executemany` on a dedicated connection in a dedicated thread, so a batch never runs on
  the event loop; values use the exact storage format SQLAlchemy reads back (hex UUIDs, naive UTC
  `YYYY-MM-DD HH:MM:SS.ffffff`, 0/1 booleans, JSON text).
- PostgreSQL: COPY through asyncpg (`copy_records_to_table`), as DESIGN §7 asks.
"""

from __future__ import annotations

import asyncio
import sqlite3
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import fields
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol

import orjson
from sqlalchemy.engine import make_url

from vmx_app.gateway.audit import AuditRecord
from vmx_app.gateway.ids import UuidPool

TABLE = "request_audit"
RECORD_FIELDS: tuple[str, ...] = tuple(f.name for f in fields(AuditRecord))
COLUMNS: tuple[str, ...] = ("id", *RECORD_FIELDS)
UUID_FIELDS = frozenset({"workspace_id", "environment_id", "resource_id", "connection_id", "api_key_id", "user_id"})
JSON_FIELDS = frozenset({"request_metadata", "events", "cost", "request_payload", "response_payload"})


class AuditStore(Protocol):
    async def write(self, batch: list[AuditRecord]) -> None:
        """Insert every record of the batch, or raise (the writer keeps the batch and retries)."""

    async def close(self) -> None: ...


def _json_text(value: Any) -> str | None:
    return None if value is None else orjson.dumps(value, option=orjson.OPT_NON_STR_KEYS).decode()


def _uuid(value: Any) -> uuid.UUID | None:
    if value is None or isinstance(value, uuid.UUID):
        return value
    return uuid.UUID(str(value))


def _utc(value: datetime) -> datetime:
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def sqlite_row(record: AuditRecord, ids: UuidPool) -> tuple[Any, ...]:
    out: list[Any] = [ids.next().hex]
    for name in RECORD_FIELDS:
        value = getattr(record, name)
        if name in UUID_FIELDS:
            parsed = _uuid(value)
            value = parsed.hex if parsed is not None else None
        elif name in JSON_FIELDS:
            value = _json_text(value)
        elif name == "created_at":
            value = _utc(value).strftime("%Y-%m-%d %H:%M:%S.%f")
        elif isinstance(value, bool):
            value = int(value)
        out.append(value)
    return tuple(out)


def postgres_row(record: AuditRecord, ids: UuidPool) -> tuple[Any, ...]:
    out: list[Any] = [ids.next()]
    for name in RECORD_FIELDS:
        value = getattr(record, name)
        if name in UUID_FIELDS:
            value = _uuid(value)
        elif name in JSON_FIELDS:
            value = _json_text(value)  # asyncpg's jsonb codec takes JSON text
        elif name == "created_at":
            value = _utc(value)
        out.append(value)
    return tuple(out)


class SQLiteAuditStore:
    """One connection, owned by one thread: sqlite3 objects must stay on the thread that made them."""

    def __init__(self, path: Path) -> None:
        self._path = path
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="vmx-audit-sqlite")
        self._conn: sqlite3.Connection | None = None
        self._ids = UuidPool()  # used on the store's thread only
        marks = ", ".join("?" for _ in COLUMNS)
        self._sql = f"INSERT INTO {TABLE} ({', '.join(COLUMNS)}) VALUES ({marks})"

    def _connection(self) -> sqlite3.Connection:
        if self._conn is None:
            conn = sqlite3.connect(self._path, timeout=30, isolation_level=None, check_same_thread=True)
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=NORMAL")
            conn.execute("PRAGMA busy_timeout=30000")
            self._conn = conn
        return self._conn

    def _write_now(self, batch: list[AuditRecord]) -> None:
        rows = [sqlite_row(r, self._ids) for r in batch]
        conn = self._connection()
        try:
            conn.execute("BEGIN IMMEDIATE")
            conn.executemany(self._sql, rows)
            conn.execute("COMMIT")
        except BaseException:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            raise

    async def write(self, batch: list[AuditRecord]) -> None:
        await asyncio.get_running_loop().run_in_executor(self._executor, self._write_now, batch)

    def _close_now(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    async def close(self) -> None:
        await asyncio.get_running_loop().run_in_executor(self._executor, self._close_now)


class PostgresAuditStore:
    def __init__(self) -> None:
        self._ids = UuidPool()

    async def write(self, batch: list[AuditRecord]) -> None:
        from vmx_app.db import get_engine

        rows = [postgres_row(r, self._ids) for r in batch]
        async with get_engine().connect() as conn:
            raw = await conn.get_raw_connection()
            driver = raw.driver_connection
            assert driver is not None
            await driver.copy_records_to_table(TABLE, records=rows, columns=list(COLUMNS))
            await conn.commit()

    async def close(self) -> None:
        return None


def store_for_settings() -> AuditStore:
    from vmx_app.settings import get_settings

    url = make_url(get_settings().async_database_url)
    if url.get_backend_name() == "sqlite":
        return SQLiteAuditStore(Path(url.database or ""))
    return PostgresAuditStore()
