"""Scope and policy checks on ids as the console gets them (strings from the URL/form): the API's route
guards run the same `vmx_app.auth.authorization` checks, so both refuse the same things with the same
codes and the same 404-before-403 rule (another tenant's ids reveal nothing). A malformed id is a 404.
The services' use cases (`*_for` / `*_as`) call these; the console's state re-exports them.
"""

from __future__ import annotations

import uuid
from typing import Any

from sqlmodel import SQLModel, select
from sqlmodel.ext.asyncio.session import AsyncSession

from vmx_app.auth.authorization import (
    Principal,
    environment_scope,
    item_in_environment,
    member_role,
    require,
    require_owner,
    workspace_scope,
)
from vmx_app.auth.policy import environment_resource, module_resource, workspace_resource
from vmx_app.errors import NotFound, not_found
from vmx_app.models import Environment, MemberRole, User, Workspace


def parse_id(value: str, what: str) -> uuid.UUID:
    try:
        return uuid.UUID(value)
    except (TypeError, ValueError) as exc:
        raise not_found(what) from exc


async def _workspace(session: AsyncSession, principal: Principal, workspace_id: str) -> Workspace:
    return await workspace_scope(session, principal, parse_id(workspace_id, "Workspace"))


async def _environment(session: AsyncSession, principal: Principal, workspace_id: str,
                       environment_id: str) -> tuple[Workspace, Environment]:
    return await environment_scope(session, principal, parse_id(workspace_id, "Workspace"),
                                   parse_id(environment_id, "Environment"))


async def is_owner(session: AsyncSession, principal: Principal, workspace: Workspace) -> bool:
    """For showing owner-only buttons; `owned_workspace_for` is the check that counts."""
    return principal.is_admin or await member_role(session, workspace.id, principal.user_id) == MemberRole.OWNER.value


async def workspace_for(session: AsyncSession, principal: Principal, workspace_id: str,
                        action: str) -> Workspace:
    """`/workspace/{ws}` routes: membership, then `action` on `workspace:<ws>`."""
    workspace = await _workspace(session, principal, workspace_id)
    require(principal, action, workspace_resource(workspace.name))
    return workspace


async def owned_workspace_for(session: AsyncSession, principal: Principal, workspace_id: str,
                              action: str) -> Workspace:
    """Rename, delete and member changes: the policy check plus OWNER membership (admins exempt)."""
    workspace = await workspace_for(session, principal, workspace_id, action)
    await require_owner(session, principal, workspace)
    return workspace


async def environments_of(session: AsyncSession, principal: Principal, workspace_id: str,
                          action: str) -> Workspace:
    """`/environment/{ws}` list/create: `action` on `workspace:<ws>:environment`."""
    workspace = await _workspace(session, principal, workspace_id)
    require(principal, action, environment_resource(workspace.name))
    return workspace


async def environment_for(session: AsyncSession, principal: Principal, workspace_id: str, environment_id: str,
                          action: str) -> tuple[Workspace, Environment]:
    """`/environment/{ws}/{env}`: `action` on `workspace:<ws>:environment:<env>`."""
    workspace, environment = await _environment(session, principal, workspace_id, environment_id)
    require(principal, action, environment_resource(workspace.name, environment.name))
    return workspace, environment


async def env_module_for(session: AsyncSession, principal: Principal, workspace_id: str, environment_id: str,
                         action: str, module: str) -> tuple[Workspace, Environment]:
    """`/<module>/{ws}/{env}` list/create: `action` on the module's base resource string."""
    workspace, environment = await _environment(session, principal, workspace_id, environment_id)
    require(principal, action, module_resource(workspace.name, environment.name, module))
    return workspace, environment


async def env_item_for(session: AsyncSession, principal: Principal, workspace_id: str, environment_id: str,
                       item_id: str, action: str, module: str,
                       model: type[SQLModel]) -> tuple[Workspace, Environment, Any]:
    """`/<module>/{ws}/{env}/{id}`: the item must live in the environment (else 404), then `action` on
    `workspace:<ws>:environment:<env>:<module>:<item.name>`. `model` needs `environment_id` and `name`."""
    workspace, environment = await _environment(session, principal, workspace_id, environment_id)
    item = await item_in_environment(session, environment, model, parse_id(item_id, module), module)
    require(principal, action, module_resource(workspace.name, environment.name, module, item.name))
    return workspace, environment, item


async def item_or_module_for(session: AsyncSession, principal: Principal, workspace_id: str, environment_id: str,
                             item_id: str, action: str, module: str,
                             model: type[SQLModel]) -> tuple[Workspace, Environment, Any]:
    """An editor's scope: the item (`env_item_for`), or with no id the module (`env_module_for`; item None)."""
    if item_id:
        return await env_item_for(session, principal, workspace_id, environment_id, item_id, action, module, model)
    workspace, environment = await env_module_for(session, principal, workspace_id, environment_id, action, module)
    return workspace, environment, None


async def user_id_by_email(session: AsyncSession, email: str) -> uuid.UUID:
    """Members are added by email in the console; the API takes user ids."""
    user_id = (await session.exec(select(User.id).where(User.email == email.strip().lower()))).first()
    if user_id is None:
        raise NotFound(f"No user with the email {email.strip()}",
                       details=[{"field": "email", "message": f"no user with the email {email.strip()}"}])
    return user_id
