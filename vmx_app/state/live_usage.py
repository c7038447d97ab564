"""Live usage on the console's capacity and budget rows: what the gate has counted in the current window."""

from __future__ import annotations

import dataclasses

from vmx_app.components.budget_editor import BudgetRow, budget_entries
from vmx_app.components.capacity_editor import CapacityRow, capacity_entries
from vmx_app.services.live_usage import budget_usage, capacity_usage


async def with_usage(rows: list[CapacityRow], env_id: str, level: str, entity_id: str) -> list[CapacityRow]:
    usages = await capacity_usage(env_id, level, entity_id, capacity_entries(rows))
    return [dataclasses.replace(r, usage=u.text, percent=u.percent) for r, u in zip(rows, usages, strict=True)]


async def with_spend(rows: list[BudgetRow], env_id: str, level: str, entity_id: str) -> list[BudgetRow]:
    usages = await budget_usage(env_id, level, entity_id, budget_entries(rows))
    return [dataclasses.replace(r, usage=u.text, percent=u.percent) for r, u in zip(rows, usages, strict=True)]
