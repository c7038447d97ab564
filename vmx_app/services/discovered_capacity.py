"""Discovered capacity (DESIGN §5, §6): the rate limits providers announce in their headers, stored on
the connection per model, at most once a minute per model and never on the hot path: the gateway hands
over the headers of a successful answer; parsing and the write happen in a background task."""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from vmx_app.db import session_scope
from vmx_app.gateway.capacity.discovered import parse_rate_limits
from vmx_app.gateway.config import ConnectionSnapshot
from vmx_app.models import AIConnection

log = logging.getLogger("vmx.gateway")
INTERVAL_S = 60.0


class DiscoveredCapacityRecorder:
    def __init__(self, interval_s: float = INTERVAL_S) -> None:
        self.interval_s = interval_s
        self._seen: dict[tuple[str, str], float] = {}
        self._tasks: set[asyncio.Task[None]] = set()

    def observe(self, connection: ConnectionSnapshot, model: str, headers: Mapping[str, str]) -> None:
        """Hot path: one dict lookup, except once a minute per (connection, model)."""
        key = (connection.id, model)
        now = time.monotonic()
        if now - self._seen.get(key, -self.interval_s) < self.interval_s:
            return
        self._seen[key] = now
        entry = parse_rate_limits(headers)
        if entry is None:
            return
        task = asyncio.get_running_loop().create_task(self.store(connection.id, model, entry))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def store(self, connection_id: str, model: str, entry: dict[str, Any]) -> bool:
        """Write `entry` for `model` when it differs from what is stored; True when written."""
        try:
            async with session_scope() as session:
                row = await session.get(AIConnection, uuid.UUID(connection_id))
                if row is None:
                    return False
                discovered = dict(row.discovered_capacity or {})
                models = dict(discovered.get("models") or {})
                if (models.get(model) or {}).get("capacity") == [entry]:
                    return False
                models[model] = {"capacity": [entry],
                                 "updatedAt": datetime.now(UTC).isoformat().replace("+00:00", "Z")}
                row.discovered_capacity = {**discovered, "models": models}  # a new dict: JSON columns
                session.add(row)
                await session.commit()
                return True
        except Exception as exc:  # noqa: BLE001 - a display-only value must never disturb requests
            log.warning("discovered capacity of connection %s/%s not stored: %s", connection_id, model, exc)
            return False
