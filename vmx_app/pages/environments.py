"""Environments of the current workspace: list, create, rename (and audit settings), delete."""

from __future__ import annotations

import dataclasses
from typing import Any

import reflex as rx
from pydantic import ValidationError
from reflex.event import EventSpec

from vmx_app.api.deps import Principal
from vmx_app.api.errors import ApiError
from vmx_app.auth.policy import environment_resource
from vmx_app.components.forms import confirm_dialog, form_dialog, icon_action, text_field
from vmx_app.components.layout import console_layout, page_header
from vmx_app.components.nav import NavItem, register_nav_item
from vmx_app.components.tables import actions_cell, cell, data_table, notice, requires_selection
from vmx_app.db import session_scope
from vmx_app.models.workspace import EnvironmentCreate, EnvironmentUpdate
from vmx_app.services import environments as env_service
from vmx_app.state.access import environment_for, environments_of, error_text
from vmx_app.state.format import when
from vmx_app.state.session import allowed, login_redirect
from vmx_app.state.workspace import MAX_OPTIONS, WorkspaceState

ROUTE = "/environments"


@dataclasses.dataclass
class EnvironmentRow:
    id: str = ""
    name: str = ""
    description: str = ""
    store_payloads: bool = True
    retention_days: int = 90
    created: str = ""
    can_edit: bool = False
    can_delete: bool = False


class EnvironmentsState(WorkspaceState):
    rows: list[EnvironmentRow] = []
    can_create: bool = False
    list_error: str = ""
    form_error: str = ""
    create_open: bool = False
    edit_open: bool = False
    edit_id: str = ""

    @rx.var
    def editing(self) -> EnvironmentRow:
        return next((r for r in self.rows if r.id == self.edit_id), EnvironmentRow())

    @rx.event
    async def load(self) -> EventSpec | None:
        principal = await self.principal_or_redirect()
        if not isinstance(principal, Principal):
            return principal
        await self._refresh(principal)
        return None

    async def _refresh(self, principal: Principal) -> None:
        await self.load_context(principal)
        self.rows, self.list_error, self.can_create = [], "", False
        if not self.workspace_id:
            return
        ws_name = self.workspace_name
        self.can_create = allowed(principal, "environment:create", environment_resource(ws_name))
        try:
            async with session_scope(readonly=True) as session:
                workspace = await environments_of(session, principal, self.workspace_id, "environment:list")
                envs, _ = await env_service.list_environments(session, workspace=workspace, offset=0,
                                                              limit=MAX_OPTIONS)
        except ApiError as exc:
            self.list_error = error_text(exc)
            return
        self.rows = [EnvironmentRow(
            id=str(e.id), name=e.name, description=e.description or "", store_payloads=e.audit_store_payloads,
            retention_days=e.audit_retention_days, created=when(e.created_at),
            can_edit=allowed(principal, "environment:update", environment_resource(ws_name, e.name)),
            can_delete=allowed(principal, "environment:delete", environment_resource(ws_name, e.name)),
        ) for e in envs]

    @rx.event
    def set_create_open(self, value: bool) -> None:
        self.create_open = value
        self.form_error = ""

    @rx.event
    def set_edit_open(self, value: bool) -> None:
        self.edit_open = value
        self.form_error = ""

    @rx.event
    def start_edit(self, environment_id: str) -> None:
        self.edit_id = environment_id
        self.form_error = ""
        self.edit_open = True

    @rx.event
    async def create(self, form: dict[str, Any]) -> EventSpec | None:
        principal = await self.current_principal()
        if principal is None:
            return login_redirect()
        try:
            data = EnvironmentCreate(name=form.get("name", ""), description=form.get("description") or None,
                                     audit_store_payloads=form.get("store_payloads") == "on",
                                     audit_retention_days=form.get("retention_days") or 90)
            async with session_scope() as session:
                workspace = await environments_of(session, principal, self.workspace_id, "environment:create")
                env = await env_service.create_environment(session, workspace=workspace, data=data,
                                                           actor_id=principal.user_id)
                new_id = str(env.id)
        except (ApiError, ValidationError) as exc:
            self.form_error = error_text(exc)
            return None
        self.create_open = False
        self.environment_id = new_id
        await self._refresh(principal)
        return rx.toast.success(f"Environment {data.name} created")

    @rx.event
    async def save(self, form: dict[str, Any]) -> EventSpec | None:
        principal = await self.current_principal()
        if principal is None:
            return login_redirect()
        try:
            data = EnvironmentUpdate(name=form.get("name", ""), description=form.get("description") or None,
                                     audit_store_payloads=form.get("store_payloads") == "on",
                                     audit_retention_days=form.get("retention_days") or None)
            async with session_scope() as session:
                _, env = await environment_for(session, principal, self.workspace_id, self.edit_id,
                                               "environment:update")
                await env_service.update_environment(session, env=env, data=data, actor_id=principal.user_id)
        except (ApiError, ValidationError) as exc:
            self.form_error = error_text(exc)
            return None
        self.edit_open = False
        await self._refresh(principal)
        return rx.toast.success("Environment saved")

    @rx.event
    async def delete(self, environment_id: str) -> EventSpec | None:
        principal = await self.current_principal()
        if principal is None:
            return login_redirect()
        try:
            async with session_scope() as session:
                _, env = await environment_for(session, principal, self.workspace_id, environment_id,
                                               "environment:delete")
                name = env.name
                await env_service.delete_environment(session, env=env)
        except ApiError as exc:
            await self._refresh(principal)
            return rx.toast.error(error_text(exc))
        await self._refresh(principal)
        return rx.toast.success(f"Environment {name} deleted")


def _row(row: EnvironmentRow) -> rx.Component:
    return rx.table.row(
        cell(rx.text(row.name, weight="medium")),
        cell(row.description),
        cell(rx.cond(row.store_payloads, rx.text("payloads kept"), rx.text("metadata only"))),
        cell(row.retention_days.to_string() + " days"),
        cell(row.created),
        actions_cell(
            rx.cond(row.can_edit,
                    icon_action("pencil", "Edit " + row.name, on_click=EnvironmentsState.start_edit(row.id)),
                    rx.fragment()),
            rx.cond(row.can_delete,
                    confirm_dialog(icon_action("trash_2", "Delete " + row.name, color_scheme="red"),
                                   title="Delete environment " + row.name + "?",
                                   message="Its connections, resources and API keys are deleted with it.",
                                   confirm_label="Delete environment",
                                   on_confirm=EnvironmentsState.delete(row.id)),
                    rx.fragment()),
        ),
        custom_attrs={"data-row": row.name},
    )


def _audit_fields(store: Any, days: Any) -> rx.Component:
    return rx.hstack(
        rx.el.label(rx.hstack(rx.switch(name="store_payloads", default_checked=store),
                              rx.text("Keep request/response payloads in the audit log", size="2"),
                              align="center", spacing="2")),
        rx.spacer(),
        rx.input(name="retention_days", type="number", min=1, max=3650, default_value=days, width="90px",
                 custom_attrs={"aria-label": "Audit retention (days)"}),
        rx.text("days", size="2"),
        align="center", width="100%",
    )


def _dialogs() -> rx.Component:
    editing = EnvironmentsState.editing
    return rx.fragment(
        form_dialog("Create environment",
                    text_field("Name", "name", required=True, placeholder="production", field_id="env-name"),
                    text_field("Description", "description", field_id="env-description"),
                    _audit_fields(True, "90"),
                    open=EnvironmentsState.create_open, on_open_change=EnvironmentsState.set_create_open,
                    on_submit=EnvironmentsState.create, submit_label="Create", error=EnvironmentsState.form_error,
                    description="In workspace " + EnvironmentsState.workspace_name),
        form_dialog("Edit environment",
                    text_field("Name", "name", required=True, default_value=editing.name, field_id="env-edit-name"),
                    text_field("Description", "description", default_value=editing.description,
                               field_id="env-edit-description"),
                    _audit_fields(editing.store_payloads, editing.retention_days.to_string()),
                    open=EnvironmentsState.edit_open, on_open_change=EnvironmentsState.set_edit_open,
                    on_submit=EnvironmentsState.save, submit_label="Save", error=EnvironmentsState.form_error),
    )


def environments_page() -> rx.Component:
    return console_layout(
        page_header("Environments", "Isolated sets of connections, resources and keys inside a workspace.",
                    rx.cond(EnvironmentsState.can_create,
                            rx.button(rx.icon("plus", size=16), "New environment",
                                      on_click=EnvironmentsState.set_create_open(True)),
                            rx.fragment())),
        notice(EnvironmentsState.list_error),
        requires_selection(
            EnvironmentsState.has_workspace, "Create or pick a workspace first.",
            data_table(["Name", "Description", "Audit", "Retention", "Created", ""], EnvironmentsState.rows, _row,
                       empty="No environments in this workspace yet.", test_id="environments-table"),
        ),
        _dialogs(),
    )


def register(app: rx.App) -> None:
    register_nav_item(NavItem("Environments", ROUTE, "layers", order=20))
    app.add_page(environments_page, route=ROUTE, on_load=EnvironmentsState.load, title="Environments · VM-X")
