"""How far an environment is from its first successful call: read from the data itself."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from vmx_app.auth.authorization import Principal
from vmx_app.errors import DomainError
from vmx_app.models import AIConnection, AIResource, ApiKey
from vmx_app.models.request_audit import RequestAudit
from vmx_app.services.access import environment_for
from vmx_app.services.unit_of_work import use_session


@dataclass(frozen=True, slots=True)
class Progress:
    connection: bool = False
    resource: bool = False
    api_key: bool = False
    first_call: bool = False


async def _exists(session: AsyncSession, stmt: object) -> bool:
    return (await session.exec(stmt.limit(1))).first() is not None  # type: ignore[attr-defined]


async def environment_progress(session: AsyncSession, environment_id: uuid.UUID) -> Progress:
    """Which setup steps an environment has done. Playground keys do not count as the user's key, and
    only a call that succeeded counts as the first call."""
    return Progress(
        connection=await _exists(session, select(AIConnection.id).where(AIConnection.environment_id == environment_id)),
        resource=await _exists(session, select(AIResource.id).where(AIResource.environment_id == environment_id)),
        api_key=await _exists(session, select(ApiKey.id).where(
            ApiKey.environment_id == environment_id, ~col(ApiKey.name).startswith("playground-"))),
        first_call=await _exists(session, select(RequestAudit.id).where(
            RequestAudit.environment_id == environment_id, col(RequestAudit.status_code) < 400)),
    )


async def environment_progress_as(principal: Principal, workspace_id: str, environment_id: str) -> Progress:
    """The checklist of an environment the principal may see (`environment:get`); nothing done otherwise."""
    async with use_session(None, readonly=True) as s:
        try:
            _, environment = await environment_for(s, principal, workspace_id, environment_id, "environment:get")
        except DomainError:
            return Progress()
        return await environment_progress(s, environment.id)
