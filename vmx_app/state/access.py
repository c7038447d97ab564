"""Scope and policy checks for console handlers: the same ones the API's route guards run.

The services do no authorization (the API does it in `vmx_app.api.deps` guards); console handlers call
these helpers first, inside the handler's DB session, so the console refuses what the API refuses,
with the same 404-before-403 rule (another tenant's ids reveal nothing).
"""

from __future__ import annotations

import uuid
from typing import Any

from pydantic import ValidationError
from sqlmodel import SQLModel, select
from sqlmodel.ext.asyncio.session import AsyncSession

from vmx_app.api.deps import Principal, authorize, environment_scope, member_role, workspace_scope
from vmx_app.api.errors import ApiError
from vmx_app.auth.policy import environment_resource, module_resource, workspace_resource
from vmx_app.models import Environment, MemberRole, User, Workspace


def parse_id(value: str, what: str) -> uuid.UUID:
    try:
        return uuid.UUID(value)
    except (TypeError, ValueError) as exc:
        raise ApiError(404, "not_found", f"{what} not found") from exc


async def require(principal: Principal, action: str, resource: str) -> None:
    """A global action (users, roles, workspace create, pricing)."""
    await authorize(principal, action, resource)


async def workspace_for(session: AsyncSession, principal: Principal, workspace_id: str,
                        action: str) -> Workspace:
    """`/workspace/{ws}` routes: membership, then `action` on `workspace:<ws>`."""
    workspace = await workspace_scope(principal, parse_id(workspace_id, "Workspace"), session=session)
    await authorize(principal, action, workspace_resource(workspace.name))
    return workspace


async def owned_workspace_for(session: AsyncSession, principal: Principal, workspace_id: str,
                              action: str) -> Workspace:
    """Rename, delete and member changes: the policy check plus OWNER membership (admins exempt)."""
    workspace = await workspace_for(session, principal, workspace_id, action)
    if not principal.is_admin and await member_role(session, workspace.id, principal.user_id) != MemberRole.OWNER:
        raise ApiError(403, "forbidden", "Only the workspace's owners can do this")
    return workspace


async def environments_of(session: AsyncSession, principal: Principal, workspace_id: str,
                          action: str) -> Workspace:
    """`/environment/{ws}` list/create: `action` on `workspace:<ws>:environment`."""
    workspace = await workspace_scope(principal, parse_id(workspace_id, "Workspace"), session=session)
    await authorize(principal, action, environment_resource(workspace.name))
    return workspace


async def environment_for(session: AsyncSession, principal: Principal, workspace_id: str, environment_id: str,
                          action: str) -> tuple[Workspace, Environment]:
    """`/environment/{ws}/{env}`: `action` on `workspace:<ws>:environment:<env>`."""
    workspace, environment = await environment_scope(
        principal, parse_id(workspace_id, "Workspace"), parse_id(environment_id, "Environment"), session=session)
    await authorize(principal, action, environment_resource(workspace.name, environment.name))
    return workspace, environment


async def env_module_for(session: AsyncSession, principal: Principal, workspace_id: str, environment_id: str,
                         action: str, module: str) -> tuple[Workspace, Environment]:
    """`/<module>/{ws}/{env}` list/create: `action` on the module's base resource string."""
    workspace, environment = await environment_scope(
        principal, parse_id(workspace_id, "Workspace"), parse_id(environment_id, "Environment"), session=session)
    await authorize(principal, action, module_resource(workspace.name, environment.name, module))
    return workspace, environment


async def env_item_for(session: AsyncSession, principal: Principal, workspace_id: str, environment_id: str,
                       item_id: str, action: str, module: str,
                       model: type[SQLModel]) -> tuple[Workspace, Environment, Any]:
    """`/<module>/{ws}/{env}/{id}`: the item must live in the environment (else 404), then `action` on
    `workspace:<ws>:environment:<env>:<module>:<item.name>`. `model` needs `environment_id` and `name`."""
    workspace, environment = await environment_scope(
        principal, parse_id(workspace_id, "Workspace"), parse_id(environment_id, "Environment"), session=session)
    item = await session.get(model, parse_id(item_id, module))
    if item is None or item.environment_id != environment.id:  # type: ignore[attr-defined]
        raise ApiError(404, "not_found", f"{module} not found")
    await authorize(principal, action,
                    module_resource(workspace.name, environment.name, module, item.name))  # type: ignore[attr-defined]
    return workspace, environment, item


async def user_id_by_email(session: AsyncSession, email: str) -> uuid.UUID:
    """Members are added by email in the console; the API takes user ids."""
    user_id = (await session.exec(select(User.id).where(User.email == email.strip().lower()))).first()
    if user_id is None:
        raise ApiError(404, "not_found", f"No user with the email {email.strip()}",
                       [{"field": "email", "message": "unknown user"}])
    return user_id


def error_text(exc: Exception) -> str:
    """What to show the user for a refused or invalid action (never a stack trace)."""
    if isinstance(exc, ApiError):
        details = exc.details if isinstance(exc.details, list) else []
        fields = [f"{d.get('field')}: {d.get('message')}" for d in details
                  if isinstance(d, dict) and d.get("field")]
        return f"{exc.message} ({'; '.join(fields)})" if fields and exc.status in (400, 409, 422) else exc.message
    if isinstance(exc, ValidationError):
        parts = []
        for err in exc.errors():
            loc = ".".join(str(p) for p in err.get("loc", ()))
            parts.append(f"{loc}: {err.get('msg', 'invalid')}" if loc else str(err.get("msg", "invalid")))
        return "; ".join(parts) or "Invalid input"
    raise exc
