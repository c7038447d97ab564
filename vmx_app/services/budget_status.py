"""Live spend per budget (DESIGN §10): `GET /v1/budget-status/{ws}/{env}` and the console's bars.

Reads the same counters the gate takes from (Redis, or this process's in the embedded profile),
for the current UTC window of every enabled budget of the environment, its resources and API keys.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import Any

from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from vmx_app.gateway.capacity.limits import BUDGET_FIELDS, NANO_PER_USD, budget_key
from vmx_app.gateway.capacity.windows import window_of
from vmx_app.models import AIResource, ApiKey, Environment
from vmx_app.services.gateway_runtime import counter_store
from vmx_app.settings import get_settings


def _iso(epoch: float | None) -> str | None:
    if epoch is None:
        return None
    return datetime.fromtimestamp(epoch, UTC).isoformat().replace("+00:00", "Z")


async def budget_status(session: AsyncSession, *, environment: Environment) -> list[dict[str, Any]]:
    owners: list[tuple[str, str, str, list[dict[str, Any]]]] = [
        ("environment", str(environment.id), environment.name, environment.budgets or [])]
    for model, level in ((AIResource, "resource"), (ApiKey, "api-key")):
        rows = (await session.exec(select(model).where(model.environment_id == environment.id)  # type: ignore[attr-defined]
                                   .order_by(model.name))).all()  # type: ignore[attr-defined]
        owners += [(level, str(r.id), r.name, r.budgets) for r in rows if r.budgets]
    now = time.time()
    prefix = get_settings().redis_key_prefix
    env_id = str(environment.id)
    out: list[dict[str, Any]] = []
    fields: list[tuple[str, str]] = []
    for level, entity_id, name, budgets in owners:
        for budget in budgets:
            if not budget.get("enabled", True):
                continue
            window = window_of(budget["period"], now)
            key = budget_key(prefix, env_id, level, entity_id, budget["period"], window.name)
            fields += [(key, name) for name in BUDGET_FIELDS]
            out.append({"level": level, "entityId": entity_id, "entityName": name, "period": budget["period"],
                        "amountUsd": budget["amountUsd"], "resetsAt": _iso(window.end)})
    values = await counter_store().read(fields) if fields else []
    for i, item in enumerate(out):
        item["reservedUsd"] = round(values[2 * i] / NANO_PER_USD, 9)
        item["spentUsd"] = round(values[2 * i + 1] / NANO_PER_USD, 9)
    return out
