"""Live usage on the console's capacity and budget rows: what the gate has counted in the current window."""

from __future__ import annotations

import dataclasses
from typing import Any

from vmx_app.components.budget_editor import BudgetRow, budget_entries
from vmx_app.components.capacity_editor import CapacityRow, capacity_entries
from vmx_app.services.live_usage import budget_usage, capacity_usage


async def with_usage(rows: list[CapacityRow], env_id: str, level: str, entity_id: str) -> list[CapacityRow]:
    usages = await capacity_usage(env_id, level, entity_id, capacity_entries(rows))
    return [dataclasses.replace(r, usage=u.text, percent=u.percent) for r, u in zip(rows, usages, strict=True)]


async def with_spend(rows: list[BudgetRow], env_id: str, level: str, entity_id: str) -> list[BudgetRow]:
    usages = await budget_usage(env_id, level, entity_id, budget_entries(rows))
    return [dataclasses.replace(r, usage=u.text, percent=u.percent) for r, u in zip(rows, usages, strict=True)]


BUDGET_PERIODS = ("day", "month", "lifetime")


def budgets_of(form: dict[str, Any]) -> list[dict[str, Any]]:
    """The form's `budget_<period>` fields (components.budget_editor.budget_fields) as `budgets[]`; an amount
    the API cannot read is sent as typed, so its validation names it."""
    out = []
    for period in BUDGET_PERIODS:
        text = str(form.get(f"budget_{period}") or "").strip()
        if text:
            try:
                out.append({"period": period, "amountUsd": float(text)})
            except ValueError:
                out.append({"period": period, "amountUsd": text})
    return out


async def budget_texts(level: str, owner: Any) -> tuple[dict[str, str], str]:
    """(amount per period, live spend summary) of the budgets of an environment (`level` environment, the
    row itself) or of a row in one (its `environment_id`)."""
    budgets = [b for b in owner.budgets or [] if b.get("enabled", True)]
    amounts = {b["period"]: f"{b['amountUsd']:g}" for b in budgets}
    env_id = str(owner.id if level == "environment" else owner.environment_id)
    usages = await budget_usage(env_id, level, str(owner.id), budgets) if budgets else []
    return amounts, " | ".join(f"{b['period']}: {u.text}" for b, u in zip(budgets, usages, strict=True))
