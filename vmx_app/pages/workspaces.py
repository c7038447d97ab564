"""Workspaces: list, create, rename and delete (owners and admins)."""

from __future__ import annotations

import dataclasses
from typing import Any, ClassVar

import reflex as rx
from pydantic import BaseModel
from reflex.event import EventSpec

from vmx_app.auth.policy import workspace_resource
from vmx_app.components.crud import (
    create_button,
    create_dialog,
    delete_action,
    edit_action,
    edit_dialog,
    first_item_button,
    list_page,
)
from vmx_app.components.forms import text_field
from vmx_app.components.labels import MEMBER_ROLES, enum_text
from vmx_app.components.nav import NavItem, register_nav_item
from vmx_app.components.tables import actions_cell, cell, data_table
from vmx_app.models import MemberRole
from vmx_app.models.workspace import WorkspaceCreate, WorkspaceUpdate
from vmx_app.pages.getting_started import getting_started_card
from vmx_app.services import workspace_admin
from vmx_app.state.access import Principal, allowed
from vmx_app.state.crud import EditDialogMixin
from vmx_app.state.format import when
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


class WorkspacesState(EditDialogMixin, WorkspaceState):
    FORM_FIELDS: ClassVar[frozenset[str]] = frozenset({"name", "description"})
    FIELD_SCHEMAS: ClassVar[dict[str, type[BaseModel]]] = {"create": WorkspaceCreate, "edit": WorkspaceCreate}
    rows: list[WorkspaceRow] = []

    @rx.var
    def editing(self) -> WorkspaceRow:
        return next((r for r in self.rows if r.id == self.edit_id), WorkspaceRow())

    async def _refresh(self, principal: Principal) -> None:
        await self.load_context(principal)
        self.can_create = allowed(principal, "workspace:create", workspace_resource())
        if not allowed(principal, "workspace:list", workspace_resource()):
            self.rows, self.list_error = [], "Your roles do not allow listing workspaces."
            return
        self.list_error = ""
        rows, _ = await workspace_admin.list_workspaces_as(principal, offset=0, limit=MAX_OPTIONS)
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
    async def create(self, form: dict[str, Any]) -> EventSpec | None:
        async def change(principal: Principal) -> str:
            data = WorkspaceCreate(name=form.get("name", ""), description=form.get("description") or None)
            new_id = str((await workspace_admin.create_workspace_as(principal, data)).id)
            self.create_open = False
            self.workspace_id = new_id  # the new workspace becomes the current one
            self.environment_id = ""
            return f"Workspace {data.name} created"

        return await self._save_form(change)

    @rx.event
    async def rename(self, form: dict[str, Any]) -> EventSpec | None:
        async def change(principal: Principal) -> str:
            data = WorkspaceUpdate(name=form.get("name", ""), description=form.get("description") or None)
            await workspace_admin.update_workspace_as(principal, self.edit_id, data)
            self.edit_open = False
            return "Workspace saved"

        return await self._save_form(change)

    @rx.event
    async def delete(self, workspace_id: str) -> EventSpec | None:
        async def change(principal: Principal) -> str:
            name = await workspace_admin.delete_workspace_as(principal, workspace_id)
            return f"Workspace {name} deleted"

        return await self._change_row(change)


def _row(row: WorkspaceRow) -> rx.Component:
    return rx.table.row(
        cell(rx.text(row.name, weight="medium")),
        cell(row.description),
        cell(rx.cond(row.member_role != "", rx.badge(enum_text(row.member_role, MEMBER_ROLES)), rx.text("—"))),
        cell(row.created),
        actions_cell(
            edit_action(row.can_edit, "Rename " + row.name, WorkspacesState.start_edit(row.id)),
            delete_action(row.can_delete, "Delete " + row.name, title="Delete workspace " + row.name + "?",
                          message="Its environments, connections, resources and API keys are deleted "
                                  "with it. This cannot be undone.",
                          confirm_label="Delete workspace", on_confirm=WorkspacesState.delete(row.id)),
        ),
        custom_attrs={"data-row": row.name},
    )


def _dialogs() -> rx.Component:
    s = WorkspacesState
    return rx.fragment(
        create_dialog(s, "Create workspace",
                      text_field("Name", "name", required=True, placeholder="acme", field_id="workspace-name",
                                 check=(s, "create")),
                      text_field("Description", "description", field_id="workspace-description",
                                 check=(s, "create")),
                      on_submit=s.create, description="You become its owner."),
        edit_dialog(s, "Rename workspace",
                    text_field("Name", "name", required=True, default_value=s.editing.name,
                               field_id="workspace-edit-name", check=(s, "edit")),
                    text_field("Description", "description", default_value=s.editing.description,
                               field_id="workspace-edit-description", check=(s, "edit")),
                    on_submit=s.rename),
    )


def workspaces_page() -> rx.Component:
    s = WorkspacesState
    return list_page(
        "Workspaces", "Workspaces group environments and their members.",
        create_button("New workspace", s.can_create, on_click=s.set_create_open(True)), s.list_error,
        rx.vstack(
            getting_started_card(),
            data_table(["Name", "Description", "Your role", "Created", ""], s.rows, _row,
                       empty="No workspaces yet. A workspace holds environments and the people who use them.",
                       test_id="workspaces-table",
                       empty_action=first_item_button("Create a workspace", s.can_create,
                                                      on_click=s.set_create_open(True), test_id="first-workspace")),
            spacing="4", width="100%"),
        _dialogs(),
    )


def register(app: rx.App) -> None:
    register_nav_item(NavItem("Workspaces", ROUTE, "building_2", order=10))
    app.add_page(workspaces_page, route=ROUTE, on_load=WorkspacesState.load, title="Workspaces · VM-X")
