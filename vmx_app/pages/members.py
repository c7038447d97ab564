"""Members of the current workspace: add by email, change role (OWNER/MEMBER), remove. Owners only."""

from __future__ import annotations

import dataclasses
from typing import Any, ClassVar

import reflex as rx
from pydantic import BaseModel, ValidationError
from reflex.event import EventSpec

from vmx_app.auth.policy import workspace_resource
from vmx_app.components.crud import create_button, create_dialog, delete_action, list_page
from vmx_app.components.fields import check_events, labelled
from vmx_app.components.forms import field
from vmx_app.components.labels import MEMBER_ROLES, enum_select, enum_text
from vmx_app.components.nav import NavItem, register_nav_item
from vmx_app.components.tables import actions_cell, cell, data_table
from vmx_app.errors import DomainError
from vmx_app.models import MemberRole
from vmx_app.models.user import UserCreate
from vmx_app.services import user_admin, workspace_admin
from vmx_app.state.access import Principal, allowed
from vmx_app.state.crud import CrudPageMixin
from vmx_app.state.format import when
from vmx_app.state.messages import error_text
from vmx_app.state.workspace import MAX_OPTIONS, WorkspaceState

ROUTE = "/members"
ROLES = [MemberRole.OWNER.value, MemberRole.MEMBER.value]


@dataclasses.dataclass
class UserChoice:
    email: str = ""
    label: str = ""  # "Ada Lovelace (ada@example.com)"


@dataclasses.dataclass
class MemberRow:
    user_id: str = ""
    email: str = ""
    name: str = ""
    role: str = ""
    since: str = ""


class MembersState(CrudPageMixin, WorkspaceState):
    FORM_FIELDS: ClassVar[frozenset[str]] = frozenset({"email"})
    # Members are users: an address checks as a user's would (the service then looks the user up).
    FIELD_SCHEMAS: ClassVar[dict[str, type[BaseModel]]] = {"create": UserCreate}
    rows: list[MemberRow] = []
    candidates: list[UserChoice] = []  # the add dialog's searchable list: users who are not members
    # Owners (and admins) with the policy's permission (`can_create` adds a member); the server checks
    # both again on every change.
    can_change_role: bool = False
    can_remove: bool = False

    async def _refresh(self, principal: Principal) -> None:
        await self.load_context(principal)
        self.rows, self.list_error = [], ""
        self.can_create = self.can_change_role = self.can_remove = False
        if not self.workspace_id:
            return
        try:
            workspace, members, owner = await workspace_admin.list_members_as(principal, self.workspace_id,
                                                                              limit=MAX_OPTIONS)
        except DomainError as exc:
            self.list_error = error_text(exc)
            return
        resource = workspace_resource(workspace.name)
        self.can_create = owner and allowed(principal, "workspace:assign", resource)
        self.can_change_role = owner and allowed(principal, "workspace:update-member-role", resource)
        self.can_remove = owner and allowed(principal, "workspace:unassign", resource)
        self.rows = [MemberRow(user_id=str(m.user_id), email=m.email, name=m.name, role=m.role,
                               since=when(m.created_at)) for m in members]
        self.candidates = []
        if self.can_create and allowed(principal, "user:list", "user"):
            users, _ = await user_admin.list_users_as(principal, offset=0, limit=MAX_OPTIONS)
            taken = {r.email for r in self.rows}
            self.candidates = [UserChoice(email=u.email, label=f"{u.name} ({u.email})" if u.name else u.email)
                               for u in users if u.email not in taken and u.state != "INACTIVE"]

    @rx.event
    async def create(self, form: dict[str, Any]) -> EventSpec | None:
        email = str(form.get("email", ""))

        async def change(principal: Principal) -> str:
            await workspace_admin.add_member_as(principal, self.workspace_id, email,
                                                form.get("role") or MemberRole.MEMBER.value)
            self.create_open = False
            return f"{email.strip()} added"

        return await self._save_form(change)

    @rx.event
    async def change_role(self, user_id: str, role: str) -> EventSpec | None:
        async def change(principal: Principal) -> str:
            await workspace_admin.set_member_role_as(principal, self.workspace_id, user_id, role)
            return "Role changed"

        return await self._change_row(change, errors=(DomainError, ValidationError))

    @rx.event
    async def remove(self, user_id: str) -> EventSpec | None:
        async def change(principal: Principal) -> str:
            await workspace_admin.remove_member_as(principal, self.workspace_id, user_id)
            return "Member removed"

        return await self._change_row(change)


def _role_cell(row: MemberRow) -> rx.Component:
    return cell(rx.cond(
        MembersState.can_change_role,
        enum_select(MEMBER_ROLES, value=row.role, size="1",
                    on_change=lambda value: MembersState.change_role(row.user_id, value),
                    aria_label="Role of " + row.email),
        rx.badge(enum_text(row.role, MEMBER_ROLES)),
    ))


def _row(row: MemberRow) -> rx.Component:
    return rx.table.row(
        cell(rx.text(row.email, weight="medium")),
        cell(row.name),
        _role_cell(row),
        cell(row.since),
        actions_cell(
            delete_action(MembersState.can_remove, "Remove " + row.email, title="Remove " + row.email + "?",
                          message="They lose access to this workspace and everything in it.",
                          confirm_label="Remove member", on_confirm=MembersState.remove(row.user_id),
                          icon="user_minus"),
        ),
        custom_attrs={"data-row": row.email},
    )


def _with_list(props: dict[str, Any]) -> dict[str, Any]:
    return {**props, "custom_attrs": {**props["custom_attrs"], "list": "member-candidates"}}


def members_page() -> rx.Component:
    s = MembersState
    return list_page(
        "Members", "Who can see this workspace. Owners manage members and can delete it.",
        create_button("Add member", s.can_create, icon="user_plus", on_click=s.set_create_open(True)), s.list_error,
        data_table(["Email", "Name", "Role", "Member since", ""], s.rows, _row,
                   empty="No members.", test_id="members-table"),
        create_dialog(s, "Add member",
                      labelled("User", "member-email", rx.fragment(
                          rx.input(name="email", id="member-email", type="search", required=True, width="100%",
                                   placeholder="Type a name or an email", auto_complete="off",
                                   **_with_list(check_events(s, "create", "email"))),
                          rx.el.datalist(rx.foreach(s.candidates, lambda u: rx.el.option(u.label, value=u.email)),
                                         id="member-candidates")),
                          s.field_errors.get("email", ""), required=True,
                          hint="Users who are not members yet; someone new signs in once (SSO) or is "
                               "created on the Users page first."),
                      field("Role", enum_select(MEMBER_ROLES, name="role", default_value=MemberRole.MEMBER.value,
                                                field_id="member-role", aria_label="Role"), html_for="member-role"),
                      on_submit=s.create, submit_label="Add", description="To workspace " + s.workspace_name),
        needs=s.has_workspace, needs_hint="Create or pick a workspace first.",
    )


def register(app: rx.App) -> None:
    register_nav_item(NavItem("Members", ROUTE, "users", order=30))
    app.add_page(members_page, route=ROUTE, on_load=MembersState.load, title="Members · VM-X")
