"""`GET /v1/completion-metric/{ws}/{env}/{resourceId}/error-rate`: the live per-minute counters routing
reads (`errorRate` in rules), for the resource's primary model unless a connection/model is named."""

from __future__ import annotations

import uuid
from typing import Any

from sqlmodel.ext.asyncio.session import AsyncSession

from vmx_app.errors import Invalid, NotFound
from vmx_app.gateway.metrics import MAX_WINDOW_MINUTES
from vmx_app.models import AIResource, Environment
from vmx_app.services import config_cache
from vmx_app.services.gateway_runtime import get_engine


async def error_rate(session: AsyncSession, env: Environment, resource_id: uuid.UUID, *, window: int,
                     status: str, connection_id: str | None, model: str | None) -> dict[str, Any]:
    if not 1 <= window <= MAX_WINDOW_MINUTES:
        raise Invalid(f"window is 1..{MAX_WINDOW_MINUTES} minutes", field="window")
    row = await session.get(AIResource, resource_id)
    if row is None or row.environment_id != env.id:
        raise NotFound("AI resource not found")
    resource = await config_cache.get_resource(env.id, row.name)
    if resource is None:
        raise NotFound("AI resource not found")
    key = (resource.id, connection_id or resource.model.connection_id or "", model or resource.model.model)
    try:
        wanted: str | int = status if status == "any" else int(status)
    except ValueError:
        raise Invalid("statusCode is 'any' or an HTTP status code", field="statusCode") from None
    deps = get_engine().deps
    rates, now = deps.error_rates, deps.wall()
    sync = getattr(rates, "sync", None)  # shared through Redis: read every pod's counts, not a stale copy
    if sync is not None:
        rates.stats(key, window, wanted, now)  # marks the key as watched, so the sync pulls it
        await sync(now)
    stats = rates.stats(key, window, wanted, now)
    return {"errorRate": stats.error_rate, "totalSuccess": stats.total_success,
            "totalFailed": stats.total_failed, "totalRequests": stats.total_requests}
