"""API keys as the signed-in principal: environment scope and policy with the steps in one place (the
API's module guards run the same `vmx_app.auth.authorization` checks). Ids are the console's strings."""

from __future__ import annotations

from vmx_app.auth.authorization import Principal
from vmx_app.models import ApiKey
from vmx_app.models.api_key import ApiKeyCreate, ApiKeyCreated, ApiKeyPublic, ApiKeyUpdate
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
