"""Users (admin): list, create, edit (name, state, roles, password reset), delete."""

from __future__ import annotations

import dataclasses
from typing import Any, ClassVar

import reflex as rx
from pydantic import BaseModel
from reflex.event import EventSpec

from vmx_app.auth.policy import user_resource
from vmx_app.components.crud import create_button, create_dialog, delete_action, edit_action, edit_dialog, list_page
from vmx_app.components.forms import field, text_field
from vmx_app.components.labels import USER_STATES, enum_select
from vmx_app.components.nav import NavItem, register_nav_item
from vmx_app.components.tables import actions_cell, cell, data_table, state_badge
from vmx_app.models.user import UserCreate, UserUpdate
from vmx_app.services import user_admin
from vmx_app.state.access import Principal, allowed, parse_id
from vmx_app.state.crud import EditDialogMixin
from vmx_app.state.format import when
from vmx_app.state.workspace import MAX_OPTIONS, WorkspaceState

ROUTE = "/users"
STATES = ["ACTIVE", "INACTIVE", "CHANGE_PASSWORD"]
ROLE_FIELD = "role__"  # form field prefix: one checkbox per role


@dataclasses.dataclass
class UserRow:
    id: str = ""
    email: str = ""
    name: str = ""
    state: str = ""
    roles: list[str] = dataclasses.field(default_factory=list)
    sso: bool = False
    last_login: str = ""
    can_edit: bool = False
    can_delete: bool = False


def _checked_roles(form: dict[str, Any]) -> list[str]:
    return sorted(k.removeprefix(ROLE_FIELD) for k, v in form.items() if k.startswith(ROLE_FIELD) and v)


class UsersState(EditDialogMixin, WorkspaceState):
    FORM_FIELDS: ClassVar[frozenset[str]] = frozenset({"email", "name", "password"})
    FIELD_SCHEMAS: ClassVar[dict[str, type[BaseModel]]] = {"create": UserCreate, "edit": UserUpdate}
    rows: list[UserRow] = []
    role_names: list[str] = []

    @rx.var
    def editing(self) -> UserRow:
        return next((r for r in self.rows if r.id == self.edit_id), UserRow())

    async def _refresh(self, principal: Principal) -> None:
        await self.load_context(principal)
        self.can_create = allowed(principal, "user:create", user_resource())
        if not allowed(principal, "user:list", user_resource()):
            self.rows, self.list_error = [], "Your roles do not allow listing users."
            return
        self.list_error = ""
        users, _ = await user_admin.list_users_as(principal, offset=0, limit=MAX_OPTIONS)
        self.role_names = await user_admin.role_names(limit=MAX_OPTIONS)
        self.rows = [UserRow(
            id=str(u.id), email=u.email, name=u.name, state=u.state, roles=list(u.roles), sso=u.sso,
            last_login=when(u.last_login_at, never="never"),
            can_edit=allowed(principal, "user:update", user_resource(u.email)),
            can_delete=u.id != principal.user_id and allowed(principal, "user:delete", user_resource(u.email)),
        ) for u in users]

    @rx.event
    async def create(self, form: dict[str, Any]) -> EventSpec | None:
        async def change(principal: Principal) -> str:
            data = UserCreate(email=form.get("email", ""), name=form.get("name", ""),
                              password=form.get("password", ""), state=form.get("state") or "ACTIVE",
                              roles=_checked_roles(form))
            await user_admin.create_user_as(principal, data)
            self.create_open = False
            return f"User {data.email} created"

        return await self._save_form(change)

    @rx.event
    async def save(self, form: dict[str, Any]) -> EventSpec | None:
        async def change(principal: Principal) -> str:
            changes = {"name": form.get("name"), "state": form.get("state"), "password": form.get("password")}
            data = UserUpdate(**{k: v for k, v in changes.items() if v})
            await user_admin.update_user_as(principal, parse_id(self.edit_id, "User"), data,
                                            roles=_checked_roles(form))
            self.edit_open = False
            return "User saved"

        return await self._save_form(change)

    @rx.event
    async def delete(self, user_id: str) -> EventSpec | None:
        async def change(principal: Principal) -> str:
            email = await user_admin.delete_user_as(principal, parse_id(user_id, "User"))
            return f"User {email} deleted"

        return await self._change_row(change)


def _row(row: UserRow) -> rx.Component:
    return rx.table.row(
        cell(rx.hstack(rx.text(row.email, weight="medium"),
                       rx.cond(row.sso, rx.badge("SSO", variant="outline"), rx.fragment()), spacing="2")),
        cell(row.name),
        cell(rx.hstack(rx.foreach(row.roles, lambda r: rx.badge(r, variant="soft")), spacing="1", wrap="wrap")),
        cell(state_badge(row.state)),
        cell(row.last_login),
        actions_cell(
            edit_action(row.can_edit, "Edit " + row.email, UsersState.start_edit(row.id)),
            delete_action(row.can_delete, "Delete " + row.email, title="Delete " + row.email + "?",
                          message="Their sessions end and their memberships are removed.",
                          confirm_label="Delete user", on_confirm=UsersState.delete(row.id)),
        ),
        custom_attrs={"data-row": row.email},
    )


def _role_checkboxes(checked: Any = None) -> rx.Component:
    def one(name: rx.Var[str]) -> rx.Component:
        default = checked.contains(name) if checked is not None else name == "read-only"
        return rx.el.label(rx.hstack(rx.checkbox(name=ROLE_FIELD + name, default_checked=default),
                                     rx.text(name, size="2"), spacing="2", align="center"))

    return field("Roles", rx.hstack(rx.foreach(UsersState.role_names, one), spacing="4", wrap="wrap"),
                 html_for="")


def _dialogs() -> rx.Component:
    s, editing = UsersState, UsersState.editing
    return rx.fragment(
        create_dialog(s, "Create user",
                      text_field("Email", "email", type="email", required=True, field_id="user-email",
                                 check=(s, "create")),
                      text_field("Name", "name", field_id="user-name", check=(s, "create")),
                      text_field("Password", "password", type="password", required=True, field_id="user-password",
                                 hint="At least 12 characters, and not a common password.", check=(s, "create")),
                      field("State", enum_select({k: USER_STATES[k] for k in ("ACTIVE", "CHANGE_PASSWORD")},
                                                 name="state", default_value="CHANGE_PASSWORD", field_id="user-state",
                                                 aria_label="State"),
                            html_for="user-state", hint="Change password: they pick their own at first login."),
                      _role_checkboxes(),
                      on_submit=s.create, submit_label="Create user"),
        edit_dialog(s, "Edit user",
                    text_field("Name", "name", default_value=editing.name, field_id="user-edit-name",
                               check=(s, "edit")),
                    field("State", enum_select(USER_STATES, name="state", default_value=editing.state,
                                               field_id="user-edit-state", aria_label="State"),
                          html_for="user-edit-state"),
                    text_field("New password", "password", type="password", field_id="user-edit-password",
                               hint="Leave empty to keep it. Setting one ends the user's sessions.",
                               check=(s, "edit")),
                    _role_checkboxes(editing.roles),
                    on_submit=s.save, description=editing.email),
    )


def users_page() -> rx.Component:
    s = UsersState
    return list_page(
        "Users", "Everyone who can sign in, and their roles.",
        create_button("New user", s.can_create, icon="user_plus", on_click=s.set_create_open(True)), s.list_error,
        data_table(["Email", "Name", "Roles", "State", "Last login", ""], s.rows, _row,
                   empty="No users.", test_id="users-table"),
        _dialogs(),
    )


def register(app: rx.App) -> None:
    register_nav_item(NavItem("Users", ROUTE, "user_cog", order=50, section="Administration", admin_only=True))
    app.add_page(users_page, route=ROUTE, on_load=UsersState.load, title="Users · VM-X")
