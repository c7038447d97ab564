"""Usage analytics (`POST /v1/completion-usage/{ws}/{env}`, DESIGN §7) and the live error rate of a
resource (`GET /v1/completion-metric/{ws}/{env}/{resourceId}/error-rate`)."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query

from vmx_app.api.deps import DbSession, EnvContext, env_guard
from vmx_app.gateway.metrics import DEFAULT_WINDOW_MINUTES
from vmx_app.services import completion_metrics
from vmx_app.services.usage import query_usage
from vmx_app.services.usage_query import UsageQuery

QueryCtx = Annotated[EnvContext, Depends(env_guard("completion-usage:query", "completion-usage"))]
RateCtx = Annotated[EnvContext, Depends(env_guard("completion-metrics:get-error-rate", "completion-metrics"))]
router = APIRouter(prefix="/v1/completion-usage", tags=["completion-usage"])
metric_router = APIRouter(prefix="/v1/completion-metric", tags=["completion-usage"])


@router.post("/{ws}/{env}")
async def usage(ctx: QueryCtx, body: UsageQuery) -> dict[str, Any]:
    return await query_usage(body, workspace_id=ctx.workspace.id, environment_id=ctx.environment.id)


@metric_router.get("/{ws}/{env}/{resource_id}/error-rate")
async def error_rate(ctx: RateCtx, resource_id: uuid.UUID, session: DbSession,
                     window: Annotated[int, Query()] = DEFAULT_WINDOW_MINUTES,
                     status_code: Annotated[str, Query(alias="statusCode", max_length=3)] = "any",
                     connection_id: Annotated[str | None, Query(alias="aiConnectionId", max_length=64)] = None,
                     model: Annotated[str | None, Query(max_length=200)] = None) -> dict[str, Any]:
    return await completion_metrics.error_rate(session, ctx.environment, resource_id, window=window,
                                               status=status_code, connection_id=connection_id, model=model)
