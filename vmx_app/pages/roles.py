"""Roles and their policy documents, with a JSON editor that refuses invalid documents."""

from __future__ import annotations

import dataclasses
import json
from typing import Any, ClassVar

import reflex as rx
from pydantic import BaseModel
from reflex.event import EventSpec

from vmx_app.auth.policy import MODULES, role_resource
from vmx_app.components.crud import create_button, delete_action, list_page
from vmx_app.components.forms import icon_action, text_field
from vmx_app.components.nav import NavItem, register_nav_item
from vmx_app.components.tables import actions_cell, cell, data_table, notice
from vmx_app.errors import Invalid
from vmx_app.models.role import RoleCreate
from vmx_app.pages.role_statements import policy_editor
from vmx_app.services import role_admin
from vmx_app.state.access import Principal, allowed, parse_id
from vmx_app.state.crud import EditDialogMixin
from vmx_app.state.role_statements import RoleStatementsMixin
from vmx_app.state.workspace import MAX_OPTIONS, WorkspaceState

ROUTE = "/roles"
NEW_POLICY = json.dumps({"statements": [
    {"effect": "allow", "actions": ["*:get", "*:list"], "resources": ["workspace:my-workspace*"]},
]}, indent=2)


@dataclasses.dataclass
class RoleRow:
    id: str = ""
    name: str = ""
    description: str = ""
    is_system: bool = False
    statements: int = 0
    policy: str = ""  # pretty-printed JSON, what the editor opens with
    can_edit: bool = False
    can_delete: bool = False


class RolesState(RoleStatementsMixin, EditDialogMixin, WorkspaceState):
    # One dialog both creates (`edit_id` "") and edits, so the mixin's create dialog stays unused here.
    FORM_FIELDS: ClassVar[frozenset[str]] = frozenset({"name", "description"})
    FIELD_SCHEMAS: ClassVar[dict[str, type[BaseModel]]] = {"role": RoleCreate}  # name and description alike
    rows: list[RoleRow] = []

    @rx.var
    def editing(self) -> RoleRow:
        return next((r for r in self.rows if r.id == self.edit_id),
                    RoleRow(policy=NEW_POLICY, can_edit=self.can_create))

    @rx.var
    def editor_title(self) -> str:
        if not self.edit_id:
            return "New role"
        row = self.editing
        return f"Role {row.name}" if not row.can_edit else f"Edit role {row.name}"

    @rx.event
    def start_edit(self, item_id: str) -> None:
        super().start_edit(item_id)
        row = next((r for r in self.rows if r.id == item_id), None)
        self._open_policy(row.policy if row is not None else NEW_POLICY)

    async def _refresh(self, principal: Principal) -> None:
        await self.load_context(principal)
        self.can_create = allowed(principal, "role:create", role_resource())
        if not allowed(principal, "role:list", role_resource()):
            self.rows, self.list_error = [], "Your roles do not allow listing roles."
            return
        self.list_error = ""
        roles, _ = await role_admin.list_roles_as(principal, offset=0, limit=MAX_OPTIONS)
        self.rows = [RoleRow(
            id=str(r.id), name=r.name, description=r.description or "", is_system=r.is_system,
            statements=len((r.policy or {}).get("statements", [])), policy=json.dumps(r.policy or {}, indent=2),
            can_edit=allowed(principal, "role:update", role_resource(r.name)),
            can_delete=not r.is_system and allowed(principal, "role:delete", role_resource(r.name)),
        ) for r in roles]

    @rx.event
    async def save(self, form: dict[str, Any]) -> EventSpec | None:
        name = str(form.get("name", ""))
        try:
            policy = self._current_policy()
        except Invalid as exc:
            self.policy_error, self.form_error = exc.message, ""  # shown under the policy, once
            return None

        async def change(principal: Principal) -> str:
            description = form.get("description") or None
            if self.edit_id:
                await role_admin.edit_role_as(principal, parse_id(self.edit_id, "Role"), name=name,
                                              description=description, policy=policy)
            else:
                await role_admin.create_role_as(principal, RoleCreate(name=name, description=description,
                                                                      policy=policy))
            self.edit_open = False
            return f"Role {name} saved"

        return await self._save_form(change)

    @rx.event
    async def delete(self, role_id: str) -> EventSpec | None:
        async def change(principal: Principal) -> str:
            name = await role_admin.delete_role_as(principal, parse_id(role_id, "Role"))
            return f"Role {name} deleted"

        return await self._change_row(change)


def _row(row: RoleRow) -> rx.Component:
    return rx.table.row(
        cell(rx.hstack(rx.text(row.name, weight="medium"),
                       rx.cond(row.is_system, rx.badge("system", variant="outline"), rx.fragment()), spacing="2",
                       white_space="nowrap")),
        cell(row.description),
        cell(row.statements.to_string()),
        actions_cell(
            rx.cond(row.can_edit,
                    icon_action("pencil", "Edit " + row.name, on_click=RolesState.start_edit(row.id)),
                    icon_action("eye", "View " + row.name, on_click=RolesState.start_edit(row.id))),
            delete_action(row.can_delete, "Delete " + row.name, title="Delete role " + row.name + "?",
                          message="Users holding it lose what it grants.",
                          confirm_label="Delete role", on_confirm=RolesState.delete(row.id)),
        ),
        custom_attrs={"data-row": row.name},
    )


def _action_reference() -> rx.Component:
    lines = [f"{m.name}: {', '.join(a.split(':', 1)[1] for a in m.actions)}  —  {m.item_resource}" for m in MODULES]
    return rx.box(rx.text("Actions and resource strings", size="1", weight="bold"),
                  *[rx.text(line, size="1", font_family="monospace") for line in lines],
                  max_height="110px", overflow_y="auto", padding="8px", border_radius="6px",
                  background=rx.color("gray", 3), width="100%")


def _editor() -> rx.Component:
    editing = RolesState.editing
    return rx.dialog.root(
        rx.dialog.content(
            rx.dialog.title(RolesState.editor_title),
            rx.form(
                rx.vstack(
                    text_field("Name", "name", required=True, default_value=editing.name, field_id="role-name",
                               check=(RolesState, "role")),
                    text_field("Description", "description", default_value=editing.description,
                               field_id="role-description", check=(RolesState, "role")),
                    policy_editor(RolesState, ~editing.can_edit),
                    _action_reference(),
                    notice(RolesState.form_error),
                    rx.hstack(
                        rx.dialog.close(rx.button("Close", variant="soft", color_scheme="gray", type="button")),
                        rx.cond(editing.can_edit, rx.button("Save role", type="submit"), rx.fragment()),
                        justify="end", spacing="3", width="100%",
                    ),
                    spacing="3", width="100%",
                ),
                on_submit=RolesState.save,
                reset_on_submit=False,
                no_validate=True,  # the server names what is missing, next to the field
            ),
            max_width="680px",
        ),
        open=RolesState.edit_open,
        on_open_change=RolesState.set_edit_open,
    )


def roles_page() -> rx.Component:
    s = RolesState
    return list_page(
        "Roles", "Policies that decide what users may do.",
        create_button("New role", s.can_create, on_click=s.start_edit("")), s.list_error,
        data_table(["Name", "Description", "Statements", ""], s.rows, _row, empty="No roles.",
                   test_id="roles-table"),
        _editor(),
    )


def register(app: rx.App) -> None:
    register_nav_item(NavItem("Roles", ROUTE, "shield", order=60, section="Administration"))
    app.add_page(roles_page, route=ROUTE, on_load=RolesState.load, title="Roles · VM-X")
