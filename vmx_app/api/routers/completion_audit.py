"""Audit trail (`/v1/completion-audit/{ws}/{env}`): filtered list newest first (keyset `cursor`), one
full row, and a streamed CSV / JSON Lines export."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query
from starlette.responses import StreamingResponse

from vmx_app.api.deps import EnvContext, env_guard
from vmx_app.services import audit_log
from vmx_app.services.audit_log import AuditFilters

MODULE = "completion-audit"
ListCtx = Annotated[EnvContext, Depends(env_guard("completion-audit:list", MODULE))]
GetCtx = Annotated[EnvContext, Depends(env_guard("completion-audit:get", MODULE))]
ExportCtx = Annotated[EnvContext, Depends(env_guard("completion-audit:export", MODULE))]
router = APIRouter(prefix="/v1/completion-audit", tags=["completion-audit"])
MEDIA = {"csv": "text/csv; charset=utf-8", "jsonl": "application/x-ndjson"}


def audit_filters(
    start: datetime | None = None,
    end: datetime | None = None,
    resource_id: Annotated[uuid.UUID | None, Query(alias="resourceId")] = None,
    connection_id: Annotated[uuid.UUID | None, Query(alias="connectionId")] = None,
    api_key_id: Annotated[uuid.UUID | None, Query(alias="apiKeyId")] = None,
    user_id: Annotated[uuid.UUID | None, Query(alias="userId")] = None,
    provider: Annotated[str | None, Query(max_length=40)] = None,
    model: Annotated[str | None, Query(max_length=200)] = None,
    status_code: Annotated[str | None, Query(alias="statusCode", max_length=3)] = None,
    correlation_id: Annotated[str | None, Query(alias="correlationId", max_length=200)] = None,
    error_only: Annotated[bool, Query(alias="errorOnly")] = False,
    error_text: Annotated[str | None, Query(alias="errorMessage", max_length=200)] = None,
) -> AuditFilters:
    return AuditFilters(start=start, end=end, resource_id=resource_id, connection_id=connection_id,
                        api_key_id=api_key_id, user_id=user_id, provider=provider, model=model,
                        status=status_code, correlation_id=correlation_id, error_only=error_only,
                        error_text=error_text)


Filters = Annotated[AuditFilters, Depends(audit_filters)]


@router.get("/{ws}/{env}")
async def list_audit(ctx: ListCtx, filters: Filters, cursor: Annotated[str | None, Query(max_length=200)] = None,
                     limit: Annotated[int, Query(ge=1, le=500)] = 50) -> dict[str, Any]:
    return await audit_log.list_rows(ctx.workspace.id, ctx.environment.id, filters, cursor=cursor, limit=limit)


@router.get("/{ws}/{env}/export")
async def export_audit(ctx: ExportCtx, filters: Filters,
                       format: Literal["csv", "jsonl"] = "jsonl") -> StreamingResponse:  # noqa: A002
    name = f"audit-{ctx.environment.name}.{format}"
    return StreamingResponse(audit_log.export_rows(ctx.workspace.id, ctx.environment.id, filters, format),
                             media_type=MEDIA[format],
                             headers={"Content-Disposition": f'attachment; filename="{name}"'})


@router.get("/{ws}/{env}/{id}")
async def get_audit(ctx: GetCtx, id: uuid.UUID) -> dict[str, Any]:  # noqa: A002
    return await audit_log.get_row(ctx.workspace.id, ctx.environment.id, id)
