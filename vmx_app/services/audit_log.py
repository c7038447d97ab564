"""The audit viewer's reads: filtered lists newest first with keyset pagination, one full row, and an
export streamed page by page (constant memory for any number of rows).

Keyset, not OFFSET: the cursor is the (created_at, id) of the last row served, so page 1,000 costs
what page 1 costs and rows written meanwhile never shift a page.
"""

from __future__ import annotations

import base64
import csv
import io
import re
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal

import orjson
import sqlalchemy as sa
from sqlalchemy.sql.elements import ColumnElement

from vmx_app.errors import Invalid, NotFound
from vmx_app.models import RequestAudit
from vmx_app.models.base import UTCDateTime
from vmx_app.services.audit_reads import RAW_LINES, copy_lines, fetch_all, is_sqlite

C = RequestAudit.__table__.c  # type: ignore[attr-defined]
HEAVY = ("request_payload", "response_payload")
LIST_COLUMNS = [c for c in C if c.name not in HEAVY]
EXPORT_PAGE = 5_000
_STATUS_CLASS = re.compile(r"^([1-5])xx$", re.IGNORECASE)


def camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part.capitalize() for part in rest)


FIELD_NAMES = {c.name: camel(c.name) for c in C}


@dataclass(frozen=True, slots=True)
class AuditFilters:
    start: datetime | None = None
    end: datetime | None = None
    resource_id: uuid.UUID | None = None
    connection_id: uuid.UUID | None = None
    api_key_id: uuid.UUID | None = None
    user_id: uuid.UUID | None = None
    provider: str | None = None
    model: str | None = None
    status: str | None = None  # "429" or a class, "4xx"
    correlation_id: str | None = None
    error_only: bool = False
    error_text: str | None = None


def _status_condition(status: str) -> ColumnElement[bool]:
    klass = _STATUS_CLASS.match(status.strip())
    if klass:
        low = int(klass.group(1)) * 100
        return sa.and_(C.status_code >= low, C.status_code < low + 100)
    try:
        return C.status_code == int(status)
    except ValueError:
        raise Invalid("statusCode is a status (429) or a class (4xx)", field="statusCode") from None


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def conditions(ws: uuid.UUID, env: uuid.UUID, f: AuditFilters) -> list[ColumnElement[bool]]:
    where: list[ColumnElement[bool]] = [C.workspace_id == ws, C.environment_id == env]
    if f.start is not None:
        where.append(C.created_at >= f.start)
    if f.end is not None:
        where.append(C.created_at < f.end)
    for column, value in (("resource_id", f.resource_id), ("connection_id", f.connection_id),
                          ("api_key_id", f.api_key_id), ("user_id", f.user_id), ("provider", f.provider),
                          ("model", f.model), ("correlation_id", f.correlation_id)):
        if value is not None:
            where.append(C[column] == value)
    if f.status:
        where.append(_status_condition(f.status))
    if f.error_only:
        where.append(C.status_code >= 400)
    if f.error_text:
        # ILIKE on PostgreSQL; SQLite's LIKE is case-insensitive (ASCII) already.
        where.append(C.error_message.ilike(f"%{_escape_like(f.error_text)}%", escape="\\"))
    return where


def encode_cursor(created_at: datetime, row_id: uuid.UUID) -> str:
    raw = f"{created_at.astimezone(UTC).isoformat()}|{row_id}".encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[datetime, uuid.UUID]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        when, _, row_id = raw.partition("|")
        return datetime.fromisoformat(when), uuid.UUID(row_id)
    except ValueError:
        raise Invalid("cursor is not one this API returned", field="cursor") from None


def _after(cursor: str) -> ColumnElement[bool]:
    when, row_id = decode_cursor(cursor)
    # A row-value comparison: one range of the (environment_id, created_at, id) index on both databases.
    return sa.tuple_(C.created_at, C.id) < sa.tuple_(sa.literal(when, UTCDateTime), sa.literal(row_id, sa.Uuid))


def to_json(row: Any) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name, value in row._mapping.items():
        if isinstance(value, uuid.UUID):
            value = str(value)
        elif isinstance(value, datetime):
            value = value.astimezone(UTC).isoformat(timespec="microseconds").replace("+00:00", "Z")
        out[FIELD_NAMES[name]] = value
    return out


async def _page(ws: uuid.UUID, env: uuid.UUID, filters: AuditFilters, cursor: str | None, limit: int,
                columns: list[Any]) -> list[Any]:
    where = conditions(ws, env, filters)
    if cursor:
        where.append(_after(cursor))
    statement = sa.select(*columns).where(*where).order_by(C.created_at.desc(), C.id.desc()).limit(limit)
    return await fetch_all(statement)


async def list_rows(ws: uuid.UUID, env: uuid.UUID, filters: AuditFilters, *, cursor: str | None = None,
                    limit: int = 50) -> dict[str, Any]:
    """Newest first, without the request/response bodies (GET …/{id} has them)."""
    rows = await _page(ws, env, filters, cursor, limit + 1, LIST_COLUMNS)
    more = len(rows) > limit
    rows = rows[:limit]
    next_cursor = encode_cursor(rows[-1].created_at, rows[-1].id) if more else None
    return {"data": [to_json(r) for r in rows], "nextCursor": next_cursor}


async def get_row(ws: uuid.UUID, env: uuid.UUID, row_id: uuid.UUID) -> dict[str, Any]:
    rows = await fetch_all(sa.select(*C).where(C.id == row_id, C.workspace_id == ws, C.environment_id == env))
    if not rows:
        raise NotFound("audit record not found")
    return to_json(rows[0])


ExportFormat = Literal["csv", "jsonl"]


def _csv_value(value: Any) -> Any:
    if isinstance(value, dict | list):
        return orjson.dumps(value).decode()
    return "" if value is None else value


def _pg_time(column: Any) -> Any:
    """`to_json`'s time text, made by PostgreSQL."""
    return sa.func.to_char(sa.func.timezone("UTC", column), 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')


def _pg_json_row() -> Any:
    """The row as the API's JSON text, built by PostgreSQL (json_build_object, in C): the export's
    rows/s were bound by Python's per-row decoding and re-encoding. Same keys, order and time format
    as `to_json` (the export test compares both)."""
    pairs: list[Any] = []
    for c in C:
        pairs += [sa.literal_column(f"'{FIELD_NAMES[c.name]}'"), _pg_time(c) if c.name == "created_at" else c]
    return sa.cast(sa.func.json_build_object(*pairs), sa.Text).label("json")


def _pg_csv_cells() -> list[Any]:
    """The CSV export's cells made by PostgreSQL as the Python path makes them (booleans True/False, the
    API's time text, NULL as an empty cell, JSON as its text), labelled with the API's field names so
    COPY's header is the CSV header."""
    cells: list[Any] = []
    for c in C:
        value: Any = c
        if c.name == "created_at":
            value = _pg_time(c)
        elif isinstance(c.type, sa.Boolean):
            value = sa.case((c, "True"), else_="False")
        cells.append(value.label(FIELD_NAMES[c.name]))
    return cells


async def _pages(ws: uuid.UUID, env: uuid.UUID, filters: AuditFilters, columns: list[Any]) -> AsyncIterator[list[Any]]:
    """Every matching row, newest first, `EXPORT_PAGE` rows at a time: memory holds one page."""
    cursor: str | None = None
    while True:
        rows = await _page(ws, env, filters, cursor, EXPORT_PAGE, columns)
        if rows:
            yield rows
        if len(rows) < EXPORT_PAGE:
            return
        cursor = encode_cursor(rows[-1].created_at, rows[-1].id)


async def export_rows(ws: uuid.UUID, env: uuid.UUID, filters: AuditFilters,
                      fmt: ExportFormat) -> AsyncIterator[bytes]:
    if not is_sqlite():  # one COPY, newest first: PostgreSQL builds and streams the lines
        jsonl = fmt == "jsonl"
        statement = (sa.select(*([_pg_json_row()] if jsonl else _pg_csv_cells()))
                     .where(*conditions(ws, env, filters)).order_by(C.created_at.desc(), C.id.desc()))
        async for chunk in copy_lines(statement, **(RAW_LINES if jsonl else {"format": "csv", "header": True})):
            yield chunk
        return
    if fmt == "csv":
        yield (",".join(FIELD_NAMES[c.name] for c in C) + "\r\n").encode()
    async for rows in _pages(ws, env, filters, list(C)):
        if fmt == "jsonl":
            yield b"".join(orjson.dumps(to_json(r)) + b"\n" for r in rows)
            continue
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        for r in rows:
            writer.writerow([_csv_value(v) for v in to_json(r).values()])
        yield buffer.getvalue().encode()
