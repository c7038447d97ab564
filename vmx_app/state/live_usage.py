"""Live usage on the console's capacity rows: what the gate has counted in each limit's current window."""

from __future__ import annotations

import dataclasses

from vmx_app.components.capacity_editor import CapacityRow, capacity_entries
from vmx_app.services.live_usage import capacity_usage


async def with_usage(rows: list[CapacityRow], env_id: str, level: str, entity_id: str) -> list[CapacityRow]:
    usages = await capacity_usage(env_id, level, entity_id, capacity_entries(rows))
    return [dataclasses.replace(r, usage=u.text, percent=u.percent) for r, u in zip(rows, usages, strict=True)]
