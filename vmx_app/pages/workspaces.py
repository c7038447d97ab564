"""Workspaces: list, create, rename and delete (owners and admins)."""

from __future__ import annotations

import dataclasses
from typing import Any

import reflex as rx
from pydantic import ValidationError
from reflex.event import EventSpec

from vmx_app.api.deps import Principal
from vmx_app.api.errors import ApiError
from vmx_app.auth.policy import workspace_resource
from vmx_app.components.forms import confirm_dialog, form_dialog, icon_action, text_field
from vmx_app.components.layout import console_layout, page_header
from vmx_app.components.nav import NavItem, register_nav_item
from vmx_app.components.tables import actions_cell, cell, data_table, notice
from vmx_app.db import session_scope
from vmx_app.models import MemberRole
from vmx_app.models.workspace import WorkspaceCreate, WorkspaceUpdate
from vmx_app.services import workspaces as ws_service
from vmx_app.state.access import error_text, owned_workspace_for, require
from vmx_app.state.format import when
from vmx_app.state.session import allowed, login_redirect
from vmx_app.state.workspace import MAX_OPTIONS, WorkspaceState

ROUTE = "/workspaces"


@dataclasses.dataclass
class WorkspaceRow:
    id: str = ""
    name: str = ""
    description: str = ""
    member_role: str = ""
    created: str = ""
    can_edit: bool = False
    can_delete: bool = False


class WorkspacesState(WorkspaceState):
    rows: list[WorkspaceRow] = []
    can_create: bool = False
    list_error: str = ""
    form_error: str = ""
    create_open: bool = False
    edit_open: bool = False
    edit_id: str = ""

    @rx.var
    def editing(self) -> WorkspaceRow:
        return next((r for r in self.rows if r.id == self.edit_id), WorkspaceRow())

    @rx.event
    async def load(self) -> EventSpec | None:
        principal = await self.principal_or_redirect()
        if not isinstance(principal, Principal):
            return principal
        await self._refresh(principal)
        return None

    async def _refresh(self, principal: Principal) -> None:
        await self.load_context(principal)
        self.can_create = allowed(principal, "workspace:create", workspace_resource())
        if not allowed(principal, "workspace:list", workspace_resource()):
            self.rows, self.list_error = [], "Your roles do not allow listing workspaces."
            return
        self.list_error = ""
        async with session_scope(readonly=True) as session:
            rows, _ = await ws_service.list_workspaces(session, user_id=principal.user_id,
                                                       see_all=principal.is_admin, offset=0, limit=MAX_OPTIONS)
        self.rows = [self._row(principal, w.id, w.name, w.description, w.member_role, w.created_at)
                     for w in rows]

    @staticmethod
    def _row(principal: Principal, ws_id: Any, name: str, description: str | None, role: str | None,
             created: Any) -> WorkspaceRow:
        owner = principal.is_admin or role == MemberRole.OWNER.value
        resource = workspace_resource(name)
        return WorkspaceRow(id=str(ws_id), name=name, description=description or "", member_role=role or "",
                            created=when(created),
                            can_edit=owner and allowed(principal, "workspace:update", resource),
                            can_delete=owner and allowed(principal, "workspace:delete", resource))

    @rx.event
    def set_create_open(self, value: bool) -> None:
        self.create_open = value
        self.form_error = ""

    @rx.event
    def set_edit_open(self, value: bool) -> None:
        self.edit_open = value
        self.form_error = ""

    @rx.event
    def start_edit(self, workspace_id: str) -> None:
        self.edit_id = workspace_id
        self.form_error = ""
        self.edit_open = True

    @rx.event
    async def create(self, form: dict[str, Any]) -> EventSpec | None:
        principal = await self.current_principal()
        if principal is None:
            return login_redirect()
        try:
            data = WorkspaceCreate(name=form.get("name", ""), description=form.get("description") or None)
            await require(principal, "workspace:create", workspace_resource())
            async with session_scope() as session:
                workspace = await ws_service.create_workspace(session, data=data, owner_id=principal.user_id)
                new_id = str(workspace.id)
        except (ApiError, ValidationError) as exc:
            self.form_error = error_text(exc)
            return None
        self.create_open = False
        self.workspace_id = new_id  # the new workspace becomes the current one
        self.environment_id = ""
        await self._refresh(principal)
        return rx.toast.success(f"Workspace {data.name} created")

    @rx.event
    async def rename(self, form: dict[str, Any]) -> EventSpec | None:
        principal = await self.current_principal()
        if principal is None:
            return login_redirect()
        try:
            data = WorkspaceUpdate(name=form.get("name", ""), description=form.get("description") or None)
            async with session_scope() as session:
                workspace = await owned_workspace_for(session, principal, self.edit_id, "workspace:update")
                await ws_service.update_workspace(session, workspace=workspace, data=data,
                                                  actor_id=principal.user_id)
        except (ApiError, ValidationError) as exc:
            self.form_error = error_text(exc)
            return None
        self.edit_open = False
        await self._refresh(principal)
        return rx.toast.success("Workspace saved")

    @rx.event
    async def delete(self, workspace_id: str) -> EventSpec | None:
        principal = await self.current_principal()
        if principal is None:
            return login_redirect()
        try:
            async with session_scope() as session:
                workspace = await owned_workspace_for(session, principal, workspace_id, "workspace:delete")
                name = workspace.name
                await ws_service.delete_workspace(session, workspace=workspace)
        except ApiError as exc:
            await self._refresh(principal)
            return rx.toast.error(error_text(exc))
        await self._refresh(principal)
        return rx.toast.success(f"Workspace {name} deleted")


def _row(row: WorkspaceRow) -> rx.Component:
    return rx.table.row(
        cell(rx.text(row.name, weight="medium")),
        cell(row.description),
        cell(rx.cond(row.member_role != "", rx.badge(row.member_role.lower()), rx.text("—"))),
        cell(row.created),
        actions_cell(
            rx.cond(row.can_edit,
                    icon_action("pencil", "Rename " + row.name, on_click=WorkspacesState.start_edit(row.id)),
                    rx.fragment()),
            rx.cond(row.can_delete,
                    confirm_dialog(icon_action("trash_2", "Delete " + row.name, color_scheme="red"),
                                   title="Delete workspace " + row.name + "?",
                                   message="Its environments, connections, resources and API keys are deleted "
                                           "with it. This cannot be undone.",
                                   confirm_label="Delete workspace",
                                   on_confirm=WorkspacesState.delete(row.id)),
                    rx.fragment()),
        ),
        custom_attrs={"data-row": row.name},
    )


def _dialogs() -> rx.Component:
    return rx.fragment(
        form_dialog("Create workspace",
                    text_field("Name", "name", required=True, placeholder="acme", field_id="workspace-name"),
                    text_field("Description", "description", field_id="workspace-description"),
                    open=WorkspacesState.create_open, on_open_change=WorkspacesState.set_create_open,
                    on_submit=WorkspacesState.create, submit_label="Create", error=WorkspacesState.form_error,
                    description="You become its owner."),
        form_dialog("Rename workspace",
                    text_field("Name", "name", required=True, default_value=WorkspacesState.editing.name,
                               field_id="workspace-edit-name"),
                    text_field("Description", "description", default_value=WorkspacesState.editing.description,
                               field_id="workspace-edit-description"),
                    open=WorkspacesState.edit_open, on_open_change=WorkspacesState.set_edit_open,
                    on_submit=WorkspacesState.rename, submit_label="Save", error=WorkspacesState.form_error),
    )


def workspaces_page() -> rx.Component:
    return console_layout(
        page_header("Workspaces", "Workspaces group environments and their members.",
                    rx.cond(WorkspacesState.can_create,
                            rx.button(rx.icon("plus", size=16), "New workspace",
                                      on_click=WorkspacesState.set_create_open(True)),
                            rx.fragment())),
        notice(WorkspacesState.list_error),
        data_table(["Name", "Description", "Your role", "Created", ""], WorkspacesState.rows, _row,
                   empty="No workspaces yet.", test_id="workspaces-table"),
        _dialogs(),
    )


def register(app: rx.App) -> None:
    register_nav_item(NavItem("Workspaces", ROUTE, "building_2", order=10))
    app.add_page(workspaces_page, route=ROUTE, on_load=WorkspacesState.load, title="Workspaces · VM-X")
