"""AI connections as the console's editor uses them: environment scope and policy with the steps in one
place (the API's module guards run the same `vmx_app.auth.authorization` checks). Ids are the console's
strings (a malformed id is a 404); an empty connection id means a new connection (the module's checks)."""

from __future__ import annotations

from typing import Any

from sqlmodel.ext.asyncio.session import AsyncSession

from vmx_app.auth.authorization import Principal
from vmx_app.models import AIConnection, Environment, Workspace
from vmx_app.models.ai_connection import AIConnectionCreate, AIConnectionUpdate
from vmx_app.services import ai_connections as service
from vmx_app.services.access import item_or_module_for
from vmx_app.services.connection_tests import test_record
from vmx_app.services.module_admin import requested_name, save_in_environment_as
from vmx_app.services.unit_of_work import use_session

MODULE = "ai-connection"


async def open_editor_as(principal: Principal, workspace_id: str, environment_id: str,
                         connection_id: str) -> tuple[str, dict[str, Any] | None]:
    """`ai-connection:get` on the connection (or `:create` for a new one): the policy base
    `workspace:<ws>:environment:<env>` and the connection's public shape (None: a new one)."""
    action = f"{MODULE}:get" if connection_id else f"{MODULE}:create"
    async with use_session(None, readonly=True) as s:
        workspace, environment, row = await item_or_module_for(
            s, principal, workspace_id, environment_id, connection_id, action, MODULE, AIConnection)
        public = await service.to_public(row) if row is not None else None
    return f"workspace:{workspace.name}:environment:{environment.name}", public


async def save_connection_as(principal: Principal, workspace_id: str, environment_id: str, connection_id: str,
                             body: dict[str, Any], *, tested: dict[str, Any] | None = None) -> str:
    """Update the connection (`ai-connection:update`) or create one (`:create`); returns its name.
    `tested`: the result of a test of exactly this config (the editor's), kept as the connection's status."""

    async def keep(s: AsyncSession, row: AIConnection) -> str:
        if tested is not None:
            row.last_test = test_record(tested)
            s.add(row)
        return row.name

    async def update(s: AsyncSession, row: AIConnection) -> str:
        data = AIConnectionUpdate.model_validate(body)
        return await keep(s, await service.update_connection(session=s, row=row, data=data,
                                                             user_id=principal.user_id))

    async def create(s: AsyncSession, workspace: Workspace, environment: Environment) -> str:
        data = AIConnectionCreate.model_validate(body)
        return await keep(s, await service.create_connection(session=s, workspace_id=workspace.id,
                                                             environment_id=environment.id, data=data,
                                                             user_id=principal.user_id))

    return await save_in_environment_as(principal, workspace_id, environment_id, connection_id, MODULE,
                                        AIConnection, update, create, new_name=requested_name(body))


async def test_connection_as(principal: Principal, workspace_id: str, environment_id: str, connection_id: str,
                             provider: str, config: dict[str, Any]) -> dict[str, Any]:
    """`ai-connection:test`: the form's (unsaved) provider and config against the provider; masked secrets
    stand for the stored connection's. No database connection is held during the provider's call."""
    async with use_session(None, readonly=True) as s:
        workspace, environment, row = await item_or_module_for(
            s, principal, workspace_id, environment_id, connection_id, f"{MODULE}:test", MODULE, AIConnection)
    if row is not None:
        return await service.check_unsaved_edit(row=row, provider=provider, config=config)
    return await service.check_new_config(workspace_id=workspace.id, environment_id=environment.id,
                                          provider=provider, config=config)
