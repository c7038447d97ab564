"""The pools page's use cases (`/pools`): scope and policy checks with the steps in one place, like the
API's `pool-definition:*` guards (`vmx_app.auth.authorization`)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlmodel import select

from vmx_app.auth.authorization import Principal, allowed
from vmx_app.auth.policy import module_resource
from vmx_app.errors import NotFound
from vmx_app.models import AIResource
from vmx_app.services import pool_definitions as service
from vmx_app.services.access import env_module_for
from vmx_app.services.unit_of_work import use_session

MODULE = "pool-definition"


@dataclass
class PoolsView:
    definition: list[dict[str, Any]] = field(default_factory=list)
    saved: bool = False
    resources: dict[str, str] = field(default_factory=dict)  # name -> id
    shares: dict[str, list[str]] = field(default_factory=dict)  # pool -> its share per connection
    can_update: bool = False
    can_delete: bool = False


async def open_pools_as(principal: Principal, workspace_id: str, environment_id: str) -> PoolsView:
    """`pool-definition:get`: the definition (empty when none), the environment's resources and the shares."""
    view = PoolsView()
    async with use_session(None, readonly=True) as s:
        workspace, environment = await env_module_for(s, principal, workspace_id, environment_id,
                                                      f"{MODULE}:get", MODULE)
        rows = (await s.exec(select(AIResource.id, AIResource.name).where(
            AIResource.environment_id == environment.id).order_by(AIResource.name))).all()  # type: ignore[arg-type]
        view.resources = {name: str(rid) for rid, name in rows}
        try:
            view.definition = list((await service.get_definition(s, environment)).definition)
            view.saved = True
        except NotFound:
            pass
        view.shares = await service.current_allocations(s, environment)
    base = module_resource(workspace.name, environment.name, MODULE)
    view.can_update = allowed(principal, f"{MODULE}:update", base)
    view.can_delete = allowed(principal, f"{MODULE}:delete", base)
    return view


async def save_pools_as(principal: Principal, workspace_id: str, environment_id: str, body: Any) -> None:
    async with use_session(None) as s:
        _, environment = await env_module_for(s, principal, workspace_id, environment_id, f"{MODULE}:update", MODULE)
        await service.put_definition(s, environment=environment, body=body, actor_id=principal.user_id)


async def delete_pools_as(principal: Principal, workspace_id: str, environment_id: str) -> None:
    async with use_session(None) as s:
        _, environment = await env_module_for(s, principal, workspace_id, environment_id, f"{MODULE}:delete", MODULE)
        await service.delete_definition(s, environment=environment)
