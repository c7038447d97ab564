"""AI resources as the console's editor uses them: environment scope and policy with the steps in one
place (the API's module guards run the same `vmx_app.auth.authorization` checks). Ids are the console's
strings (a malformed id is a 404)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlmodel.ext.asyncio.session import AsyncSession

from vmx_app.auth.authorization import Principal, allowed
from vmx_app.models import AIConnection, AIResource, Environment, Workspace
from vmx_app.models.ai_resource import AIResourceCreate, AIResourcePublic, AIResourceUpdate
from vmx_app.models.api_key import ApiKeyPublic
from vmx_app.services import ai_connections as connections_service
from vmx_app.services import ai_resources as service
from vmx_app.services.access import env_module_for, item_or_module_for
from vmx_app.services.api_keys import list_keys
from vmx_app.services.model_suggestions import suggested_models
from vmx_app.services.module_admin import requested_name, save_in_environment_as
from vmx_app.services.unit_of_work import use_session

MODULE = "ai-resource"


@dataclass(frozen=True, slots=True)
class EditorContext:
    """What the editor shows: the resource (None: a new one), the pickers' choices, and the policy base
    `workspace:<ws>:environment:<env>` for hiding what the principal may not do."""

    base: str
    row: AIResource | None
    connections: list[AIConnection]
    api_keys: list[ApiKeyPublic] | None  # None: the principal may not list the environment's keys
    models: dict[str, list[str]]  # connection id → model names the model fields suggest


async def open_editor_as(principal: Principal, workspace_id: str, environment_id: str, resource_id: str, *,
                         max_keys: int) -> EditorContext:
    """An existing resource needs `ai-resource:get`, a new one `ai-resource:create`."""
    async with use_session(None, readonly=True) as s:
        action = f"{MODULE}:get" if resource_id else f"{MODULE}:create"
        workspace, environment, row = await item_or_module_for(
            s, principal, workspace_id, environment_id, resource_id, action, MODULE, AIResource)
        connections = await connections_service.list_connections(session=s, environment_id=environment.id)
        models = await suggested_models(s, connections)
        base = f"workspace:{workspace.name}:environment:{environment.name}"
        keys = None
        if allowed(principal, "api-key:list", f"{base}:api-key"):
            keys, _ = await list_keys(s, env=environment, offset=0, limit=max_keys)
    return EditorContext(base=base, row=row, connections=connections, api_keys=keys, models=models)


async def save_resource_as(principal: Principal, workspace_id: str, environment_id: str, resource_id: str,
                           payload: dict[str, Any]) -> AIResourcePublic:
    """Update the resource (`ai-resource:update`) or, with no id, create one (`ai-resource:create`)."""

    async def update(s: AsyncSession, row: AIResource) -> AIResourcePublic:
        data = AIResourceUpdate.model_validate(payload)
        return service.to_public(await service.update_resource(session=s, row=row, data=data,
                                                               user_id=principal.user_id))

    async def create(s: AsyncSession, workspace: Workspace, environment: Environment) -> AIResourcePublic:
        data = AIResourceCreate.model_validate(payload)
        return service.to_public(await service.create_resource(session=s, workspace_id=workspace.id,
                                                               environment_id=environment.id, data=data,
                                                               user_id=principal.user_id))

    return await save_in_environment_as(principal, workspace_id, environment_id, resource_id, MODULE, AIResource,
                                        update, create, new_name=requested_name(payload))


async def routing_test_scope_as(principal: Principal, workspace_id: str, environment_id: str, resource_id: str,
                                action: str) -> tuple[str, str | None]:
    """May the principal dry-run routing here: the environment's id and the saved resource's name (None: a
    resource not saved yet)."""
    async with use_session(None, readonly=True) as s:
        _, environment, row = await item_or_module_for(
            s, principal, workspace_id, environment_id, resource_id, action, MODULE, AIResource)
    return str(environment.id), row.name if row is not None else None


async def resource_names_as(principal: Principal, workspace_id: str, environment_id: str) -> list[str]:
    """The environment's AI resource names (`ai-resource:list`), for the Connect page and the playground."""
    async with use_session(None, readonly=True) as s:
        _, environment = await env_module_for(s, principal, workspace_id, environment_id, f"{MODULE}:list", MODULE)
        rows = await service.list_resources(session=s, environment_id=environment.id)
    return [r.name for r in rows]
