"""AI resources in the console: the list page's state."""

from __future__ import annotations

import dataclasses
from typing import Any

import reflex as rx
from reflex.event import EventSpec

from vmx_app.api.deps import Principal
from vmx_app.api.errors import ApiError
from vmx_app.db import session_scope
from vmx_app.models import AIResource
from vmx_app.services import ai_resources as service
from vmx_app.state.access import env_item_for, env_module_for, error_text
from vmx_app.state.connections import connection_options, problem_text
from vmx_app.state.session import allowed
from vmx_app.state.workspace import WorkspaceState

MODULE = "ai-resource"


@dataclasses.dataclass
class ResourceRow:
    id: str = ""
    name: str = ""
    description: str = ""
    primary: str = ""
    fallback: str = ""
    routing: str = ""


def slot_label(slot: dict[str, Any] | None, names: dict[str, str]) -> str:
    if not slot:
        return ""
    conn = names.get(str(slot.get("connectionId")), "?")
    return f"{slot.get('provider')} / {slot.get('model')} @ {conn}"


def resource_row(public: dict[str, Any], names: dict[str, str]) -> ResourceRow:
    fallbacks = public.get("fallbackModels") or []
    routing = public.get("routing") or {}
    conditions = routing.get("conditions") or []
    return ResourceRow(
        id=public["id"], name=public["name"], description=public.get("description") or "",
        primary=slot_label(public.get("model"), names),
        fallback=(f"{len(fallbacks)} model(s)" if fallbacks else "none")
        + ("" if public.get("useFallback") or not fallbacks else " (off)"),
        routing=f"{len(conditions)} rule(s)" + ("" if routing.get("enabled") else " (off)") if conditions else "none",
    )


class ResourcesState(WorkspaceState):
    resources: list[ResourceRow] = []
    can_create: bool = False
    can_delete: bool = False
    list_error: str = ""

    @rx.event
    async def load(self) -> EventSpec | None:
        principal = await self.principal_or_redirect()
        if not isinstance(principal, Principal):
            return principal
        await self.load_context(principal)
        self.list_error = ""
        self.resources = []
        self.can_create = self.can_delete = False
        if not self.environment_id:
            return None
        try:
            async with session_scope(readonly=True) as session:
                workspace, environment = await env_module_for(session, principal, self.workspace_id,
                                                              self.environment_id, f"{MODULE}:list", MODULE)
                rows = await service.list_resources(session=session, environment_id=environment.id)
                names = {o["id"]: o["name"] for o in await connection_options(session, environment.id)}
        except ApiError as exc:
            self.list_error = error_text(exc)
            return None
        self.resources = [resource_row(service.to_public(r).model_dump(by_alias=True, mode="json"), names)
                          for r in rows]
        base = f"workspace:{workspace.name}:environment:{environment.name}:{MODULE}"
        self.can_create = allowed(principal, f"{MODULE}:create", base)
        self.can_delete = allowed(principal, f"{MODULE}:delete", f"{base}:*")
        return None

    @rx.event
    async def delete(self, resource_id: str) -> EventSpec | None:
        principal = await self.current_principal()
        if principal is None:
            return rx.redirect("/login", replace=True)
        try:
            async with session_scope() as session:
                _, _, row = await env_item_for(session, principal, self.workspace_id, self.environment_id,
                                               resource_id, f"{MODULE}:delete", MODULE, AIResource)
                name = row.name
                await service.delete_resource(session=session, row=row)
        except ApiError as exc:
            self.list_error = problem_text(exc)
            return None
        self.resources = [r for r in self.resources if r.id != resource_id]
        return rx.toast.success(f"Resource {name} deleted")
