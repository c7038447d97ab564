"""Environments as the signed-in principal: workspace scope and policy with the steps in one place (the
API's environment guards run the same `vmx_app.auth.authorization` checks). Ids are the console's
strings (a malformed id is a 404)."""

from __future__ import annotations

from vmx_app.auth.authorization import Principal, require_new_name
from vmx_app.auth.policy import environment_resource
from vmx_app.models import Environment
from vmx_app.models.workspace import EnvironmentCreate, EnvironmentUpdate
from vmx_app.services import environments as env_service
from vmx_app.services.access import environment_for, environments_of
from vmx_app.services.unit_of_work import use_session


async def list_environments_as(principal: Principal, workspace_id: str, *, limit: int) -> list[Environment]:
    async with use_session(None, readonly=True) as s:
        workspace = await environments_of(s, principal, workspace_id, "environment:list")
        envs, _ = await env_service.list_environments(s, workspace=workspace, offset=0, limit=limit)
    return envs


async def create_environment_as(principal: Principal, workspace_id: str, data: EnvironmentCreate) -> Environment:
    async with use_session(None) as s:
        workspace = await environments_of(s, principal, workspace_id, "environment:create")
        return await env_service.create_environment(s, workspace=workspace, data=data, actor_id=principal.user_id)


async def update_environment_as(principal: Principal, workspace_id: str, environment_id: str,
                                data: EnvironmentUpdate) -> Environment:
    async with use_session(None) as s:
        ws, env = await environment_for(s, principal, workspace_id, environment_id, "environment:update")
        require_new_name(principal, "environment:update", environment_resource(ws.name, env.name),
                         environment_resource(ws.name, data.name or env.name))
        return await env_service.update_environment(s, env=env, data=data, actor_id=principal.user_id)


async def delete_environment_as(principal: Principal, workspace_id: str, environment_id: str) -> str:
    """Returns the deleted environment's name (for the console's toast)."""
    async with use_session(None) as s:
        _, env = await environment_for(s, principal, workspace_id, environment_id, "environment:delete")
        name = env.name
        await env_service.delete_environment(s, env=env)
    return name
