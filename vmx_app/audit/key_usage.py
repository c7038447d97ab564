"""API keys' `lastUsedAt`, kept off the hot path: after each audit batch is written, the writer hands
the batch here, and each key seen is updated at most once a minute per process (one UPDATE per key,
never per request)."""

from __future__ import annotations

import time
import uuid
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa

from vmx_app.audit.stores import COLUMNS

_KEY = COLUMNS.index("api_key_id")
_AT = COLUMNS.index("created_at")
MIN_INTERVAL_S = 60.0


def _moment(value: Any) -> datetime:
    if isinstance(value, datetime):
        return value.astimezone(UTC)
    return datetime.fromisoformat(str(value)).replace(tzinfo=UTC)  # SQLite rows hold naive UTC text


class KeyLastUsed:
    def __init__(self, min_interval_s: float = MIN_INTERVAL_S) -> None:
        self._min_interval_s = min_interval_s
        self._updated: dict[str, float] = {}  # key id -> monotonic time of its last UPDATE
        self.updates = 0

    def due(self, rows: list[tuple[Any, ...]], now: float) -> dict[str, datetime]:
        """The keys of these rows not updated within the interval, each with its latest use."""
        latest: dict[str, datetime] = {}
        for row in rows:
            key = row[_KEY]
            if key is None or now - self._updated.get(str(key), -self._min_interval_s) < self._min_interval_s:
                continue
            at = _moment(row[_AT])
            if str(key) not in latest or at > latest[str(key)]:
                latest[str(key)] = at
        return latest

    async def after_write(self, rows: list[tuple[Any, ...]]) -> None:
        from vmx_app.db import get_engine
        from vmx_app.models import ApiKey

        now = time.monotonic()
        due = self.due(rows, now)
        if not due:
            return
        table = ApiKey.__table__  # type: ignore[attr-defined]
        async with get_engine().begin() as conn:
            for key, at in due.items():
                await conn.execute(
                    sa.update(table).where(table.c.id == uuid.UUID(key))
                    .where(sa.or_(table.c.last_used_at.is_(None), table.c.last_used_at < at))
                    .values(last_used_at=at))
        for key in due:
            self._updated[key] = now
        self.updates += len(due)
