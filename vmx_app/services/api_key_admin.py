"""API keys as the signed-in principal: environment scope and policy with the steps in one place (the
API's module guards run the same `vmx_app.auth.authorization` checks). Ids are the console's strings."""

from __future__ import annotations

import uuid

from vmx_app.auth.authorization import Principal
from vmx_app.errors import Invalid
from vmx_app.models import AIResource, ApiKey
from vmx_app.models.api_key import ApiKeyCreate, ApiKeyCreated, ApiKeyPublic, ApiKeyUpdate
from vmx_app.services import ai_resources
from vmx_app.services import api_keys as keys_service
from vmx_app.services.access import env_item_for, env_module_for
from vmx_app.services.unit_of_work import use_session

MODULE = "api-key"


async def list_keys_as(principal: Principal, workspace_id: str, environment_id: str, *,
                       limit: int) -> list[ApiKeyPublic]:
    async with use_session(None, readonly=True) as s:
        _, env = await env_module_for(s, principal, workspace_id, environment_id, "api-key:list", MODULE)
        keys, _ = await keys_service.list_keys(s, env=env, offset=0, limit=limit)
    return keys


async def create_key_as(principal: Principal, workspace_id: str, environment_id: str,
                        data: ApiKeyCreate) -> ApiKeyCreated:
    async with use_session(None) as s:
        _, env = await env_module_for(s, principal, workspace_id, environment_id, "api-key:create", MODULE)
        return await keys_service.create_key(s, env=env, data=data, actor_id=principal.user_id)


async def update_key_as(principal: Principal, workspace_id: str, environment_id: str, key_id: str,
                        data: ApiKeyUpdate) -> ApiKey:
    async with use_session(None) as s:
        _, env, key = await env_item_for(s, principal, workspace_id, environment_id, key_id, "api-key:update",
                                         MODULE, ApiKey)
        await keys_service.update_key(s, key=key, env=env, data=data, actor_id=principal.user_id)
    return key


async def delete_key_as(principal: Principal, workspace_id: str, environment_id: str, key_id: str) -> str:
    """Returns the deleted key's name (for the console's toast)."""
    async with use_session(None) as s:
        _, _, key = await env_item_for(s, principal, workspace_id, environment_id, key_id, "api-key:delete",
                                       MODULE, ApiKey)
        name = key.name
        await keys_service.delete_key(s, key=key)
    return name


async def list_keys_and_resources_as(principal: Principal, workspace_id: str, environment_id: str, *,
                                     limit: int) -> tuple[list[ApiKeyPublic], list[AIResource]]:
    """The keys (`api-key:list`) and the environment's AI resources (their scope choices and names)."""
    async with use_session(None, readonly=True) as s:
        _, env = await env_module_for(s, principal, workspace_id, environment_id, "api-key:list", MODULE)
        keys, _ = await keys_service.list_keys(s, env=env, offset=0, limit=limit)
        resources = await ai_resources.list_resources(session=s, environment_id=env.id)
    return keys, resources


async def get_key_as(principal: Principal, workspace_id: str, environment_id: str, key_id: str) -> ApiKey:
    """One key for the edit form: `api-key:update` on it."""
    async with use_session(None, readonly=True) as s:
        _, _, key = await env_item_for(s, principal, workspace_id, environment_id, key_id, "api-key:update",
                                       MODULE, ApiKey)
    return key  # type: ignore[no-any-return]


async def regenerate_key_as(principal: Principal, workspace_id: str, environment_id: str,
                            key_id: str) -> ApiKeyCreated:
    """`api-key:update`: a new value, shown once; the old one refused from now on."""
    async with use_session(None) as s:
        _, _, key = await env_item_for(s, principal, workspace_id, environment_id, key_id, "api-key:update",
                                       MODULE, ApiKey)
        return await keys_service.regenerate_key(s, key=key, actor_id=principal.user_id)


async def assign_resource_as(principal: Principal, workspace_id: str, environment_id: str, key_id: str,
                             resource_id: str, assigned: bool) -> tuple[str, list[str]]:
    """Add or remove one resource in a key's list (`api-key:update`); answers the key's name and list.
    A key's only resource is not removed: an empty list would let the key reach every resource."""
    async with use_session(None) as s:
        _, env, key = await env_item_for(s, principal, workspace_id, environment_id, key_id, "api-key:update",
                                         MODULE, ApiKey)
        resources = [r for r in key.resources if r != resource_id]
        if assigned:
            resources.append(resource_id)
        elif not resources:
            raise Invalid(f"This is the only resource of key {key.name}; give it another resource first, or "
                          "disable the key", field="resources")
        await keys_service.update_key(s, key=key, env=env, actor_id=principal.user_id,
                                      data=ApiKeyUpdate(resources=[uuid.UUID(r) for r in resources]))
        return key.name, resources
