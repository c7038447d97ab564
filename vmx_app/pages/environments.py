"""Environments of the current workspace: list, create, rename (and audit settings), delete."""

from __future__ import annotations

import dataclasses
from typing import Any, ClassVar

import reflex as rx
from pydantic import BaseModel
from reflex.event import EventSpec

from vmx_app.auth.policy import environment_resource
from vmx_app.components.budget_editor import budget_fields
from vmx_app.components.crud import (
    create_button,
    create_dialog,
    delete_action,
    edit_action,
    edit_dialog,
    first_item_button,
    list_page,
)
from vmx_app.components.fields import check_events, field_error
from vmx_app.components.forms import text_field
from vmx_app.components.nav import NavItem, register_nav_item
from vmx_app.components.tables import actions_cell, cell, data_table, setup_link
from vmx_app.errors import DomainError
from vmx_app.models.workspace import EnvironmentCreate, EnvironmentUpdate
from vmx_app.services import environment_admin
from vmx_app.state.access import Principal, allowed
from vmx_app.state.budget_rows import QuickBudgetsMixin
from vmx_app.state.crud import EditDialogMixin
from vmx_app.state.format import when
from vmx_app.state.live_usage import budget_texts, budgets_of
from vmx_app.state.messages import error_text
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
    budget_day: str = ""  # USD, "" = no budget of that period
    budget_month: str = ""
    budget_lifetime: str = ""
    spend: str = ""  # live spend of each budget's current window


class EnvironmentsState(QuickBudgetsMixin, EditDialogMixin, WorkspaceState):
    FORM_FIELDS: ClassVar[frozenset[str]] = frozenset({"name", "description", "audit_retention_days", "budgets"})
    FIELD_SCHEMAS: ClassVar[dict[str, type[BaseModel]]] = {"create": EnvironmentCreate, "edit": EnvironmentCreate}
    rows: list[EnvironmentRow] = []

    @rx.var
    def editing(self) -> EnvironmentRow:
        return next((r for r in self.rows if r.id == self.edit_id), EnvironmentRow())

    async def _refresh(self, principal: Principal) -> None:
        await self.load_context(principal)
        self.rows, self.list_error, self.can_create = [], "", False
        if not self.workspace_id:
            return
        ws_name = self.workspace_name
        self.can_create = allowed(principal, "environment:create", environment_resource(ws_name))
        try:
            envs = await environment_admin.list_environments_as(principal, self.workspace_id, limit=MAX_OPTIONS)
        except DomainError as exc:
            self.list_error = error_text(exc)
            return
        rows = []
        for e in envs:
            amounts, spend = await budget_texts("environment", e)
            rows.append(EnvironmentRow(
                id=str(e.id), name=e.name, description=e.description or "", store_payloads=e.audit_store_payloads,
                retention_days=e.audit_retention_days, created=when(e.created_at),
                can_edit=allowed(principal, "environment:update", environment_resource(ws_name, e.name)),
                can_delete=allowed(principal, "environment:delete", environment_resource(ws_name, e.name)),
                budget_day=amounts.get("day", ""), budget_month=amounts.get("month", ""),
                budget_lifetime=amounts.get("lifetime", ""), spend=spend))
        self.rows = rows

    @rx.event
    async def create(self, form: dict[str, Any]) -> EventSpec | None:
        async def change(principal: Principal) -> str:
            data = EnvironmentCreate(name=form.get("name", ""), description=form.get("description") or None,
                                     audit_store_payloads=form.get("store_payloads") == "on",
                                     audit_retention_days=form.get("retention_days") or 90,
                                     budgets=budgets_of(form))
            new_id = str((await environment_admin.create_environment_as(principal, self.workspace_id, data)).id)
            self.create_open = False
            self.environment_id = new_id
            return f"Environment {data.name} created"

        return await self._save_form(change)

    @rx.event
    async def save(self, form: dict[str, Any]) -> EventSpec | None:
        async def change(principal: Principal) -> str:
            data = EnvironmentUpdate(name=form.get("name", ""), description=form.get("description") or None,
                                     audit_store_payloads=form.get("store_payloads") == "on",
                                     audit_retention_days=form.get("retention_days") or None,
                                     budgets=budgets_of(form))
            await environment_admin.update_environment_as(principal, self.workspace_id, self.edit_id, data)
            self.edit_open = False
            return "Environment saved"

        return await self._save_form(change)

    @rx.event
    async def delete(self, environment_id: str) -> EventSpec | None:
        async def change(principal: Principal) -> str:
            name = await environment_admin.delete_environment_as(principal, self.workspace_id, environment_id)
            return f"Environment {name} deleted"

        return await self._change_row(change)


def _row(row: EnvironmentRow) -> rx.Component:
    return rx.table.row(
        cell(rx.text(row.name, weight="medium")),
        cell(row.description),
        cell(rx.cond(row.store_payloads, rx.text("payloads kept"), rx.text("metadata only"))),
        cell(row.retention_days.to_string() + " days"),
        cell(row.created),
        cell(rx.text(row.spend, size="1", color_scheme="gray", custom_attrs={"data-spend": row.name})),
        actions_cell(
            edit_action(row.can_edit, "Edit " + row.name, EnvironmentsState.start_edit(row.id)),
            delete_action(row.can_delete, "Delete " + row.name, title="Delete environment " + row.name + "?",
                          message="Its connections, resources and API keys are deleted with it.",
                          confirm_label="Delete environment", on_confirm=EnvironmentsState.delete(row.id)),
        ),
        custom_attrs={"data-row": row.name},
    )


def _with_label(props: dict[str, Any], label: str) -> dict[str, Any]:
    return {**props, "custom_attrs": {**props["custom_attrs"], "aria-label": label}}


def _audit_fields(store: Any, days: Any, form: str) -> rx.Component:
    return rx.vstack(_audit_switches(store, days, form), rx.text(
        "Payloads are the request as sent to the provider and its response, kept on each call's audit row "
        "(size-capped). Turn them off when prompts hold data that must not be stored: tokens, cost, timings "
        "and metadata are still recorded.", size="1", color=rx.color("gray", 11)),
        field_error(EnvironmentsState.field_errors.get("audit_retention_days", ""), f"env-{form}-retention"),
        spacing="1", width="100%")


def _audit_switches(store: Any, days: Any, form: str) -> rx.Component:
    return rx.hstack(
        rx.el.label(rx.hstack(rx.switch(name="store_payloads", default_checked=store),
                              rx.text("Keep request/response payloads in the audit log", size="2"),
                              align="center", spacing="2")),
        rx.spacer(),
        rx.input(name="retention_days", type="number", min=1, max=3650, default_value=days, width="90px",
                 id=f"env-{form}-retention",
                 **_with_label(check_events(EnvironmentsState, form, "audit_retention_days"),
                               "Audit retention (days)")),
        rx.text("days", size="2"),
        align="center", width="100%",
    )


def _dialogs() -> rx.Component:
    s, editing = EnvironmentsState, EnvironmentsState.editing
    return rx.fragment(
        create_dialog(s, "Create environment",
                      text_field("Name", "name", required=True, placeholder="production", field_id="env-name",
                                 check=(s, "create")),
                      text_field("Description", "description", field_id="env-description", check=(s, "create")),
                      _audit_fields(True, "90", "create"),
                      budget_fields("env", "", "", "", check=(s, "create")),
                      field_error(s.field_errors.get("budgets", ""), "env-budgets"),
                      on_submit=s.create, description="In workspace " + s.workspace_name),
        edit_dialog(s, "Edit environment",
                    text_field("Name", "name", required=True, default_value=editing.name, field_id="env-edit-name",
                               check=(s, "edit")),
                    text_field("Description", "description", default_value=editing.description,
                               field_id="env-edit-description", check=(s, "edit")),
                    _audit_fields(editing.store_payloads, editing.retention_days.to_string(), "edit"),
                    budget_fields("env", editing.budget_day, editing.budget_month, editing.budget_lifetime,
                                  check=(s, "edit")),
                    field_error(s.field_errors.get("budgets", ""), "env-edit-budgets"),
                    on_submit=s.save),
    )


def environments_page() -> rx.Component:
    s = EnvironmentsState
    return list_page(
        "Environments", "Isolated sets of connections, resources and keys inside a workspace.",
        create_button("New environment", s.can_create, on_click=s.set_create_open(True)), s.list_error,
        data_table(["Name", "Description", "Audit", "Retention", "Created", "Budgets (spent now)", ""], s.rows, _row,
                   empty="No environments in this workspace yet. Each one has its own connections, resources "
                         "and keys (e.g. production, staging).", test_id="environments-table",
                   empty_action=first_item_button("Create an environment", s.can_create,
                                                  on_click=s.set_create_open(True), test_id="first-environment")),
        _dialogs(),
        needs=s.has_workspace, needs_hint="Create or pick a workspace first.",
        needs_action=setup_link("Go to workspaces", "/workspaces"),
    )


def register(app: rx.App) -> None:
    register_nav_item(NavItem("Environments", ROUTE, "layers", order=20))
    app.add_page(environments_page, route=ROUTE, on_load=EnvironmentsState.load, title="Environments · VM-X")
