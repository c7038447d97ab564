"""State of the pools page (`/pools`): the environment's prioritization pools, edited as rows (resources
by name), and each pool's current share of every connection the gate applies to."""

from __future__ import annotations

import dataclasses
from typing import Any, ClassVar

import reflex as rx
from pydantic import BaseModel
from reflex.event import EventSpec

from vmx_app.auth.authorization import Principal
from vmx_app.errors import DomainError
from vmx_app.gateway.config import PoolConfig
from vmx_app.services import pool_admin
from vmx_app.state.field_check import FieldCheckMixin
from vmx_app.state.messages import error_text
from vmx_app.state.workspace import WorkspaceState

NO_SHARE = "no connection with a minute token limit"


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


ROW_FIELDS = ("name", "rank", "min_reservation", "max_reservation", "resources")


class PoolsState(FieldCheckMixin, WorkspaceState):
    # Each row's fields are checked with the pool schema the service validates the definition with; an
    # error is keyed "<row>.<field>" (e.g. "0.min_reservation").
    FIELD_SCHEMAS: ClassVar[dict[str, type[BaseModel]]] = {"pool": PoolConfig}
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
        self.pools, self.error, self.loaded, self.saved, self.field_errors = [], "", False, False, {}
        if not self.environment_id:
            return None
        try:
            view = await pool_admin.open_pools_as(principal, self.workspace_id, self.environment_id)
        except DomainError as exc:
            self.error = error_text(exc)
            return None
        self._ids = view.resources
        names = {rid: name for name, rid in view.resources.items()}
        self.resource_names = list(view.resources)
        self.pools = [PoolRow(name=p["name"], rank=str(p.get("rank", 0)), min_reservation=f"{p['minReservation']:g}",
                              max_reservation=f"{p['maxReservation']:g}",
                              resources=", ".join(names.get(r, r) for r in p.get("resources", [])),
                              allocation="; ".join(view.shares.get(p["name"], [])) or NO_SHARE)
                      for p in view.definition]
        self.saved, self.can_update, self.can_delete = view.saved, view.can_update, view.can_delete
        self.loaded = True
        return None

    def _field_value(self, form: str, name: str, raw: Any) -> Any:
        if name == "resources":  # typed as names; the definition holds ids
            unknown = [n for n in (p.strip() for p in str(raw).split(",")) if n and n not in self._ids]
            if unknown:
                raise ValueError(f"No AI resource named {', '.join(unknown)} in this environment.")
            return []
        return raw

    @rx.event
    def add_pool(self) -> None:
        self.pools = [*self.pools, PoolRow(name=f"pool-{len(self.pools) + 1}", rank=str(len(self.pools) + 1))]

    @rx.event
    def remove_pool(self, index: int) -> None:
        self.pools = [p for i, p in enumerate(self.pools) if i != index]
        self.field_errors = {}  # keyed by row number: the rows after it moved up

    @rx.event
    def set_pool(self, index: int, key: str, value: str) -> None:
        self.pools = [dataclasses.replace(p, **{key: value}) if i == index else p for i, p in enumerate(self.pools)]
        self._recheck("pool", f"{index}.{key}", value)

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
        self.error = ""
        problems = [self._check("pool", f"{i}.{key}", getattr(row, key))
                    for i, row in enumerate(self.pools) for key in ROW_FIELDS]
        if any(problems):
            return None  # each said next to its field
        try:
            await pool_admin.save_pools_as(principal, self.workspace_id, self.environment_id, self._body())
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
            await pool_admin.delete_pools_as(principal, self.workspace_id, self.environment_id)
        except DomainError as exc:
            self.error = error_text(exc)
            return None
        return [rx.toast.success("Pool definition deleted"), PoolsState.load]
