"""Listing, saving and deleting one module's items in an environment as the signed-in principal, for the
console's list pages (`state/crud.EnvModuleListMixin`) and editors: the scope and policy checks here, the
module's own read, write or delete in the callback, all in one session."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from sqlmodel import SQLModel
from sqlmodel.ext.asyncio.session import AsyncSession

from vmx_app.auth.authorization import Principal, require_item_rename
from vmx_app.models import Environment, Workspace
from vmx_app.services.access import env_item_for, env_module_for, item_or_module_for
from vmx_app.services.unit_of_work import use_session

T = TypeVar("T")


async def list_in_environment_as(principal: Principal, workspace_id: str, environment_id: str, module: str,
                                 lister: Callable[[AsyncSession, Environment], Awaitable[T]]) -> tuple[str, T]:
    """`<module>:list` on the environment's module; returns the module's policy resource
    (`workspace:<ws>:environment:<env>:<module>`) and what `lister` read."""
    async with use_session(None, readonly=True) as s:
        workspace, environment = await env_module_for(s, principal, workspace_id, environment_id,
                                                      f"{module}:list", module)
        rows = await lister(s, environment)
    return f"workspace:{workspace.name}:environment:{environment.name}:{module}", rows


async def delete_in_environment_as(principal: Principal, workspace_id: str, environment_id: str, item_id: str,
                                   module: str, model: type[SQLModel],
                                   deleter: Callable[[AsyncSession, Any], Awaitable[None]]) -> str:
    """`<module>:delete` on the item (which must live in the environment); returns its name."""
    async with use_session(None) as s:
        _, _, row = await env_item_for(s, principal, workspace_id, environment_id, item_id, f"{module}:delete",
                                       module, model)
        name = str(row.name)
        await deleter(s, row)
    return name


def requested_name(body: dict[str, Any]) -> str | None:
    """The name an editor's body asks for (names are stripped by their schema), for the rename check."""
    name = body.get("name")
    return name.strip() if isinstance(name, str) else None


async def save_in_environment_as(principal: Principal, workspace_id: str, environment_id: str, item_id: str,
                                 module: str, model: type[SQLModel],
                                 update: Callable[[AsyncSession, Any], Awaitable[T]],
                                 create: Callable[[AsyncSession, Workspace, Environment], Awaitable[T]], *,
                                 new_name: str | None = None) -> T:
    """An editor's save: `update` the item (`<module>:update` on it, and on `new_name` when it is renamed),
    or with no id `create` one (`<module>:create` on the module)."""
    action = f"{module}:update" if item_id else f"{module}:create"
    async with use_session(None) as s:
        workspace, environment, row = await item_or_module_for(s, principal, workspace_id, environment_id, item_id,
                                                               action, module, model)
        if row is not None:
            require_item_rename(principal, action, workspace, environment, module, row.name, new_name)
        return await (update(s, row) if row is not None else create(s, workspace, environment))
