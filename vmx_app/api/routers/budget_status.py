"""`GET /v1/budget-status/{ws}/{env}`: spent and reserved per budget, live (DESIGN §10)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends

from vmx_app.api.deps import DbSession, EnvContext, env_guard
from vmx_app.services.budget_status import budget_status

router = APIRouter(prefix="/v1/budget-status", tags=["budgets"])
GetCtx = Annotated[EnvContext, Depends(env_guard("budget-status:get", "budget-status"))]


@router.get("/{ws}/{env}")
async def get_budget_status(ctx: GetCtx, session: DbSession) -> dict[str, Any]:
    return {"data": await budget_status(session, environment=ctx.environment)}
