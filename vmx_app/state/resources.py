"""AI resources in the console: the list page's state."""

from __future__ import annotations

import dataclasses
from typing import Any, ClassVar

from sqlmodel import SQLModel
from sqlmodel.ext.asyncio.session import AsyncSession

from vmx_app.models import AIResource, Environment
from vmx_app.services import ai_resources as service
from vmx_app.state.connections import connection_options
from vmx_app.state.crud import EnvModuleListMixin
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


class ResourcesState(EnvModuleListMixin, WorkspaceState):
    MODULE: ClassVar[str] = MODULE
    MODEL: ClassVar[type[SQLModel]] = AIResource
    NOUN: ClassVar[str] = "Resource"
    rows: list[ResourceRow] = []

    async def _list_rows(self, session: AsyncSession, environment: Environment) -> list[ResourceRow]:
        rows = await service.list_resources(session=session, environment_id=environment.id)
        names = {o["id"]: o["name"] for o in await connection_options(session, environment.id)}
        return [resource_row(service.to_public(r).model_dump(by_alias=True, mode="json"), names) for r in rows]

    async def _delete_row(self, session: AsyncSession, row: AIResource) -> None:
        await service.delete_resource(session=session, row=row)
