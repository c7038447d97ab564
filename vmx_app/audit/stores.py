"""Where audit batches go: one store per database, each the cheapest bulk insert its driver has.

The ORM path cost ~60 µs of event-loop CPU per row (bind processors, JSON via the stdlib, deep
copies), which at gateway rates was a fifth of the process. These stores encode each record once, when
it is queued (a compact tuple: the queue never holds a request's dicts), with orjson for JSON columns,
and hand a whole batch to the driver in one call:
- SQLite: `executemany` on a dedicated connection in a dedicated thread, so a batch never runs on
  the event loop; values use the exact storage format SQLAlchemy reads back (hex UUIDs, naive UTC
  `YYYY-MM-DD HH:MM:SS.ffffff`, 0/1 booleans, JSON text).
- PostgreSQL: COPY through asyncpg (`copy_records_to_table`), as DESIGN §7 asks.
"""

from __future__ import annotations

import asyncio
import sqlite3
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import fields
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol

import orjson
from sqlalchemy.engine import make_url

from vmx_app.gateway.audit import AuditRecord
from vmx_app.gateway.ids import Uuid7Pool, UuidPool

TABLE = "request_audit"
RECORD_FIELDS: tuple[str, ...] = tuple(f.name for f in fields(AuditRecord))
COLUMNS: tuple[str, ...] = ("id", *RECORD_FIELDS)
UUID_FIELDS = frozenset({"workspace_id", "environment_id", "resource_id", "connection_id", "api_key_id", "user_id",
                         "batch_id"})
JSON_FIELDS = frozenset({"request_metadata", "events", "cost", "request_payload", "response_payload"})


class AuditStore(Protocol):
    def encode(self, record: AuditRecord) -> tuple[Any, ...]:
        """The record as the row the driver takes: done once, when the record is queued."""

    async def write(self, rows: list[tuple[Any, ...]], *, idempotent: bool = False) -> None:
        """Insert every row of the batch, or none and raise. `idempotent` (spool replays): rows whose
        id is already stored are skipped instead of failing the batch."""

    def revive(self, row: list[Any]) -> tuple[Any, ...]:
        """A row read back from the spool's JSON as the driver takes it again."""

    async def ping(self) -> None:
        """Raise when the database cannot be reached (tells an outage from a poison row)."""

    async def close(self) -> None: ...


def _json_text(value: Any) -> str | None:
    return None if value is None else orjson.dumps(value, option=orjson.OPT_NON_STR_KEYS).decode()


def _utc(value: datetime) -> datetime:
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _uuid_hex(value: Any) -> str:
    """SQLAlchemy's SQLite form of a UUID: 32 hex digits (ids arrive as canonical strings)."""
    return value.hex if isinstance(value, uuid.UUID) else str(value).replace("-", "")


def _sqlite_time(value: datetime) -> str:
    return _utc(value).replace(tzinfo=None).isoformat(sep=" ", timespec="microseconds")


def _sqlite_bool(value: bool) -> int:
    return int(value)


def _pg_uuid(value: Any) -> str | None:
    return None if value is None else str(value)  # asyncpg's uuid codec parses the text form


Encoder = Callable[[Any], Any] | None


def _pg_text(value: Any) -> Any:
    """PostgreSQL text cannot hold NUL: a client-sent NUL character must not make the batch fail."""
    return value.replace("\x00", "\ufffd") if isinstance(value, str) and "\x00" in value else value


def _pg_json_text(value: Any) -> str:
    """jsonb refuses the escaped NUL (orjson writes NUL that way): the row must still be written."""
    text = _json_text(value) or ""
    return text.replace("\\u0000", "\\ufffd") if "\\u0000" in text else text


def _encoders(uuid_fn: Encoder, time_fn: Encoder, bool_fn: Encoder, text_fn: Encoder = None,
              json_fn: Encoder = _json_text) -> tuple[tuple[str, Encoder], ...]:
    """Per column, the conversion its value needs (None: as it is), decided once instead of per row."""
    out: list[tuple[str, Encoder]] = []
    for f in fields(AuditRecord):
        if f.name in UUID_FIELDS:
            out.append((f.name, uuid_fn))
        elif f.name in JSON_FIELDS:
            out.append((f.name, json_fn))
        elif f.name == "created_at":
            out.append((f.name, time_fn))
        elif f.type in ("bool", bool):
            out.append((f.name, bool_fn))
        elif f.type in ("str", "str | None", str):
            out.append((f.name, text_fn))
        else:
            out.append((f.name, None))
    return tuple(out)


_SQLITE_ENCODERS = _encoders(_uuid_hex, _sqlite_time, _sqlite_bool)
# asyncpg's jsonb codec takes JSON text
_POSTGRES_ENCODERS = _encoders(_pg_uuid, _utc, None, text_fn=_pg_text, json_fn=_pg_json_text)


def _row(record: AuditRecord, row_id: Any, encoders: tuple[tuple[str, Encoder], ...]) -> tuple[Any, ...]:
    out: list[Any] = [row_id]
    for name, encode in encoders:
        value = getattr(record, name)
        out.append(value if encode is None or value is None else encode(value))
    return tuple(out)


def sqlite_row(record: AuditRecord, ids: UuidPool) -> tuple[Any, ...]:
    return _row(record, ids.next().hex, _SQLITE_ENCODERS)


def postgres_row(record: AuditRecord, ids: UuidPool) -> tuple[Any, ...]:
    return _row(record, ids.next(), _POSTGRES_ENCODERS)


class SQLiteAuditStore:
    """One connection, owned by one thread: sqlite3 objects must stay on the thread that made them."""

    def __init__(self, path: Path) -> None:
        self._path = path
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="vmx-audit-sqlite")
        self._conn: sqlite3.Connection | None = None
        self._ids = Uuid7Pool()  # used by encode(), on the event loop's thread; time-ordered keys
        marks = ", ".join("?" for _ in COLUMNS)
        self._sql = f"INSERT INTO {TABLE} ({', '.join(COLUMNS)}) VALUES ({marks})"
        # Not OR IGNORE: that would also swallow NOT NULL violations (poison rows must still fail).
        self._sql_idempotent = self._sql + " ON CONFLICT (id, created_at) DO NOTHING"

    def _connection(self) -> sqlite3.Connection:
        if self._conn is None:
            conn = sqlite3.connect(self._path, timeout=30, isolation_level=None, check_same_thread=True)
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=NORMAL")
            conn.execute("PRAGMA busy_timeout=30000")
            self._conn = conn
        return self._conn

    def encode(self, record: AuditRecord) -> tuple[Any, ...]:
        return sqlite_row(record, self._ids)

    def _write_now(self, rows: list[tuple[Any, ...]], idempotent: bool) -> None:
        conn = self._connection()
        try:
            conn.execute("BEGIN IMMEDIATE")
            conn.executemany(self._sql_idempotent if idempotent else self._sql, rows)
            conn.execute("COMMIT")
        except BaseException:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            raise

    async def write(self, rows: list[tuple[Any, ...]], *, idempotent: bool = False) -> None:
        await asyncio.get_running_loop().run_in_executor(self._executor, self._write_now, rows, idempotent)

    def revive(self, row: list[Any]) -> tuple[Any, ...]:
        return tuple(row)  # SQLite rows are JSON-native already (text times, hex ids, 0/1)

    def _ping_now(self) -> None:
        self._connection().execute("SELECT 1")

    async def ping(self) -> None:
        await asyncio.get_running_loop().run_in_executor(self._executor, self._ping_now)

    def _close_now(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    async def close(self) -> None:
        await asyncio.get_running_loop().run_in_executor(self._executor, self._close_now)


_CREATED_AT = COLUMNS.index("created_at")


class PostgresAuditStore:
    def __init__(self) -> None:
        self._ids = Uuid7Pool()  # time-ordered: inserts land at the primary key's right edge
        marks = ", ".join(f"${i}" for i in range(1, len(COLUMNS) + 1))
        self._sql_idempotent = (f"INSERT INTO {TABLE} ({', '.join(COLUMNS)}) VALUES ({marks}) "
                                "ON CONFLICT (id, created_at) DO NOTHING")

    def encode(self, record: AuditRecord) -> tuple[Any, ...]:
        return postgres_row(record, self._ids)

    async def write(self, rows: list[tuple[Any, ...]], *, idempotent: bool = False) -> None:
        from vmx_app.db import get_engine

        async with get_engine().connect() as conn:
            raw = await conn.get_raw_connection()
            driver = raw.driver_connection
            assert driver is not None
            if idempotent:  # COPY has no ON CONFLICT; replays are rare, one pipelined statement is fine
                await driver.executemany(self._sql_idempotent, rows)
            else:
                await driver.copy_records_to_table(TABLE, records=rows, columns=list(COLUMNS))
            await conn.commit()

    def revive(self, row: list[Any]) -> tuple[Any, ...]:
        out = list(row)  # ids as text are fine for asyncpg's uuid codec; timestamps must be datetimes
        out[_CREATED_AT] = datetime.fromisoformat(out[_CREATED_AT])
        return tuple(out)

    async def ping(self) -> None:
        from sqlalchemy import text

        from vmx_app.db import get_engine

        async with get_engine().connect() as conn:
            await conn.execute(text("SELECT 1"))

    async def close(self) -> None:
        return None


def store_for_settings() -> AuditStore:
    from vmx_app.settings import get_settings

    url = make_url(get_settings().async_database_url)
    if url.get_backend_name() == "sqlite":
        return SQLiteAuditStore(Path(url.database or ""))
    return PostgresAuditStore()
