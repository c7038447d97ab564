"""The audit trail and usage as the signed-in principal (the console's use cases): environment scope and
policy first, with the same checks the API's guards run, then the very services the API answers with."""

from __future__ import annotations

import uuid
from typing import Any

from sqlmodel import col, select

from vmx_app.auth.authorization import Principal, allowed
from vmx_app.auth.policy import module_resource
from vmx_app.errors import not_found
from vmx_app.models import AIConnection, AIResource, ApiKey
from vmx_app.services import audit_log
from vmx_app.services.access import env_module_for
from vmx_app.services.audit_log import AuditFilters
from vmx_app.services.unit_of_work import use_session
from vmx_app.services.usage import query_usage, spend_this_month
from vmx_app.services.usage_query import UsageQuery


async def _scope(principal: Principal, workspace_id: str, environment_id: str, action: str,
                 module: str) -> tuple[uuid.UUID, uuid.UUID]:
    async with use_session(None, readonly=True) as s:
        workspace, env = await env_module_for(s, principal, workspace_id, environment_id, action, module)
    return workspace.id, env.id


async def list_rows_as(principal: Principal, workspace_id: str, environment_id: str, filters: AuditFilters, *,
                       cursor: str | None, limit: int) -> dict[str, Any]:
    ws, env = await _scope(principal, workspace_id, environment_id, "completion-audit:list", "completion-audit")
    return await audit_log.list_rows(ws, env, filters, cursor=cursor, limit=limit)


FILTER_CHOICES_MAX = 1000  # per module: a select of more is no help (the API takes any id)
_CHOICE_MODULES = (("ai-resource", AIResource), ("ai-connection", AIConnection), ("api-key", ApiKey))


async def filter_choices_as(principal: Principal, workspace_id: str,
                            environment_id: str) -> dict[str, list[tuple[str, str]]]:
    """The audit filter bar's choices: (id, name) of the environment's resources, connections and API keys,
    by name; a module the principal may not list offers none (its filter is then not shown)."""
    async with use_session(None, readonly=True) as s:
        workspace, env = await env_module_for(s, principal, workspace_id, environment_id, "completion-audit:list",
                                              "completion-audit")
        choices: dict[str, list[tuple[str, str]]] = {}
        for module, model in _CHOICE_MODULES:
            if not allowed(principal, f"{module}:list", module_resource(workspace.name, env.name, module)):
                choices[module] = []
                continue
            rows = (await s.exec(select(model.id, model.name).where(model.environment_id == env.id)
                                 .order_by(col(model.name)).limit(FILTER_CHOICES_MAX))).all()
            choices[module] = [(str(row_id), name) for row_id, name in rows]
    return choices


async def get_row_as(principal: Principal, workspace_id: str, environment_id: str, row_id: str) -> dict[str, Any]:
    ws, env = await _scope(principal, workspace_id, environment_id, "completion-audit:get", "completion-audit")
    try:
        return await audit_log.get_row(ws, env, uuid.UUID(row_id))
    except ValueError:
        raise not_found("audit record") from None


async def usage_as(principal: Principal, workspace_id: str, environment_id: str,
                   queries: list[UsageQuery]) -> list[list[dict[str, Any]]]:
    """Several usage queries (a dashboard's charts) under one check."""
    ws, env = await _scope(principal, workspace_id, environment_id, "completion-usage:query", "completion-usage")
    return [(await query_usage(q, workspace_id=ws, environment_id=env))["data"] for q in queries]


async def key_spend_this_month_as(principal: Principal, workspace_id: str,
                                  environment_id: str) -> dict[str, float] | None:
    """Cost per API key id this month; None when the principal may not query usage here."""
    async with use_session(None, readonly=True) as s:
        workspace, env = await env_module_for(s, principal, workspace_id, environment_id, "api-key:list", "api-key")
    if not allowed(principal, "completion-usage:query", module_resource(workspace.name, env.name, "completion-usage")):
        return None
    return await spend_this_month(workspace.id, env.id, "apiKeyId")
