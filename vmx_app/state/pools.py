"""State of the pools page (`/pools`): the environment's prioritization pools, edited as rows (resources
by name), and each pool's current share of every connection the gate applies to."""

from __future__ import annotations

import dataclasses
from typing import Any

import reflex as rx
from reflex.event import EventSpec
from sqlmodel import select

from vmx_app.auth.policy import module_resource
from vmx_app.db import session_scope
from vmx_app.errors import DomainError, NotFound
from vmx_app.models import AIResource
from vmx_app.services import pool_definitions as service
from vmx_app.state.access import Principal, allowed, env_module_for
from vmx_app.state.messages import error_text
from vmx_app.state.workspace import WorkspaceState

MODULE = "pool-definition"


@dataclasses.dataclass
class PoolRow:
    name: str = ""
    rank: str = "1"
    min_reservation: str = "0"
    max_reservation: str = "100"
    resources: str = ""  # resource names, comma-separated
    allocation: str = ""  # "openai-prod: 35 % of 60,000 tokens/min; …"


def _number(text: str) -> float | str:
    try:
        return float(text)
    except ValueError:
        return text  # the API's validation names the field


class PoolsState(WorkspaceState):
    pools: list[PoolRow] = []
    resource_names: list[str] = []
    saved: bool = False
    can_update: bool = False
    can_delete: bool = False
    loaded: bool = False
    error: str = ""
    _ids: dict[str, str] = {}  # resource name -> id

    async def _principal(self) -> Principal | EventSpec:
        principal = await self.principal_or_redirect()
        if isinstance(principal, Principal):
            await self.load_context(principal)
        return principal

    @rx.event
    async def load(self) -> EventSpec | None:
        principal = await self._principal()
        if not isinstance(principal, Principal):
            return principal
        self.pools, self.error, self.loaded, self.saved = [], "", False, False
        if not self.environment_id:
            return None
        try:
            async with session_scope(readonly=True) as session:
                workspace, environment = await env_module_for(session, principal, self.workspace_id,
                                                              self.environment_id, f"{MODULE}:get", MODULE)
                rows = (await session.exec(select(AIResource.id, AIResource.name).where(
                    AIResource.environment_id == environment.id).order_by(AIResource.name))).all()
                self._ids = {name: str(rid) for rid, name in rows}
                names = {rid: name for name, rid in self._ids.items()}
                try:
                    definition = (await service.get_definition(session, environment)).definition
                    self.saved = True
                except NotFound:
                    definition = []
                shares = await service.current_allocations(session, environment)
        except DomainError as exc:
            self.error = error_text(exc)
            return None
        self.resource_names = list(self._ids)
        self.pools = [PoolRow(name=p["name"], rank=str(p.get("rank", 0)), min_reservation=f"{p['minReservation']:g}",
                              max_reservation=f"{p['maxReservation']:g}",
                              resources=", ".join(names.get(r, r) for r in p.get("resources", [])),
                              allocation="; ".join(shares.get(p["name"], [])) or "no connection with a minute "
                                                                                  "token limit")
                      for p in definition]
        base = module_resource(workspace.name, environment.name, MODULE)
        self.can_update = allowed(principal, f"{MODULE}:update", base)
        self.can_delete = allowed(principal, f"{MODULE}:delete", base)
        self.loaded = True
        return None

    @rx.event
    def add_pool(self) -> None:
        self.pools = [*self.pools, PoolRow(name=f"pool-{len(self.pools) + 1}", rank=str(len(self.pools) + 1))]

    @rx.event
    def remove_pool(self, index: int) -> None:
        self.pools = [p for i, p in enumerate(self.pools) if i != index]

    @rx.event
    def set_pool(self, index: int, key: str, value: str) -> None:
        self.pools = [dataclasses.replace(p, **{key: value}) if i == index else p for i, p in enumerate(self.pools)]

    def _body(self) -> dict[str, Any]:
        definition = []
        for i, row in enumerate(self.pools):
            resources = []
            for name in (n.strip() for n in row.resources.split(",")):
                if name:
                    if name not in self._ids:
                        raise DomainError(f"definition[{i}].resources: no AI resource named {name!r}")
                    resources.append(self._ids[name])
            definition.append({"name": row.name.strip(), "rank": int(_number(row.rank)) if row.rank.isdigit()
                               else row.rank, "minReservation": _number(row.min_reservation),
                               "maxReservation": _number(row.max_reservation), "resources": resources})
        return {"definition": definition}

    @rx.event
    async def save(self) -> EventSpec | list[EventSpec] | None:
        principal = await self._principal()
        if not isinstance(principal, Principal):
            return principal
        try:
            body = self._body()
            async with session_scope() as session:
                _, environment = await env_module_for(session, principal, self.workspace_id, self.environment_id,
                                                      f"{MODULE}:update", MODULE)
                await service.put_definition(session, environment=environment, body=body,
                                             actor_id=principal.user_id)
        except DomainError as exc:
            self.error = error_text(exc)
            return None
        return [rx.toast.success("Pools saved"), PoolsState.load]

    @rx.event
    async def delete(self) -> EventSpec | list[EventSpec] | None:
        principal = await self._principal()
        if not isinstance(principal, Principal):
            return principal
        try:
            async with session_scope() as session:
                _, environment = await env_module_for(session, principal, self.workspace_id, self.environment_id,
                                                      f"{MODULE}:delete", MODULE)
                await service.delete_definition(session, environment=environment)
        except DomainError as exc:
            self.error = error_text(exc)
            return None
        return [rx.toast.success("Pool definition deleted"), PoolsState.load]
