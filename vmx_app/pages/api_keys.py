"""API keys of the current environment: listed masked; a new key is shown once, with a copy button."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, time
from typing import Any

import reflex as rx
from pydantic import ValidationError
from reflex.event import EventSpec

from vmx_app.auth.policy import module_resource
from vmx_app.components.budget_editor import budget_fields
from vmx_app.components.crud import create_button, create_dialog, delete_action, list_page
from vmx_app.components.forms import text_field
from vmx_app.components.nav import NavItem, register_nav_item
from vmx_app.components.tables import actions_cell, cell, data_table, enabled_badge, mono
from vmx_app.errors import DomainError, Invalid
from vmx_app.models.api_key import ApiKeyCreate, ApiKeyUpdate
from vmx_app.services import api_key_admin, audit_admin
from vmx_app.state.access import Principal, allowed
from vmx_app.state.crud import CrudPageMixin
from vmx_app.state.format import csv_list, when
from vmx_app.state.live_usage import budget_texts, budgets_of
from vmx_app.state.messages import error_text
from vmx_app.state.workspace import MAX_OPTIONS, WorkspaceState

ROUTE = "/api-keys"
MODULE = "api-key"


@dataclasses.dataclass
class ApiKeyRow:
    id: str = ""
    name: str = ""
    description: str = ""
    masked_key: str = ""
    enabled: bool = True
    labels: str = ""
    expires: str = ""
    last_used: str = ""
    spend: str = ""  # spent this month, from the audit rows
    can_update: bool = False
    can_delete: bool = False
    budget_spend: str = ""  # live spend of each budget's current window


def _end_of_day(value: str) -> datetime | None:
    """`2027-01-31` from a date input → the end of that day, UTC; "" → no expiry."""
    if not value:
        return None
    try:
        return datetime.combine(datetime.strptime(value, "%Y-%m-%d").date(), time(23, 59, 59), tzinfo=UTC)
    except ValueError as exc:
        raise Invalid("expiresAt: not a date", details=[{"field": "expiresAt", "message": "not a date"}]) from exc


class ApiKeysState(CrudPageMixin, WorkspaceState):
    rows: list[ApiKeyRow] = []
    # The one time the key's value exists outside the caller's hands; cleared when the dialog closes.
    new_key: str = ""
    new_key_name: str = ""

    @rx.event
    async def load(self) -> EventSpec | None:
        self._forget_new_key()
        return await super().load()

    def _forget_new_key(self) -> None:
        self.new_key = ""
        self.new_key_name = ""

    async def _refresh(self, principal: Principal) -> None:
        await self.load_context(principal)
        self.rows, self.list_error, self.can_create = [], "", False
        if not self.environment_id:
            return
        base = module_resource(self.workspace_name, self.environment_name, MODULE)
        self.can_create = allowed(principal, "api-key:create", base)
        try:
            keys = await api_key_admin.list_keys_as(principal, self.workspace_id, self.environment_id,
                                                    limit=MAX_OPTIONS)
        except DomainError as exc:
            self.list_error = error_text(exc)
            return
        month = await audit_admin.key_spend_this_month_as(principal, self.workspace_id, self.environment_id)
        rows = []
        for k in keys:
            _, budget_spend = await budget_texts("api-key", k)
            rows.append(ApiKeyRow(
                id=str(k.id), name=k.name, description=k.description or "", masked_key=k.masked_key,
                enabled=k.enabled, labels=", ".join(k.labels), expires=when(k.expires_at, never="never"),
                last_used=when(k.last_used_at, never="never"),
                spend="—" if month is None else f"${month.get(str(k.id), 0.0):,.4f}",
                can_update=allowed(principal, "api-key:update", f"{base}:{k.name}"),
                can_delete=allowed(principal, "api-key:delete", f"{base}:{k.name}"), budget_spend=budget_spend))
        self.rows = rows

    @rx.event
    def set_create_open(self, value: bool) -> None:
        super().set_create_open(value)
        if not value:
            self._forget_new_key()

    @rx.event
    async def create(self, form: dict[str, Any]) -> EventSpec | None:
        async def change(principal: Principal) -> None:
            data = ApiKeyCreate(name=form.get("name", ""), description=form.get("description") or None,
                                labels=csv_list(str(form.get("labels", ""))),
                                expires_at=_end_of_day(str(form.get("expires_at", ""))),
                                budgets=budgets_of(form))
            created = await api_key_admin.create_key_as(principal, self.workspace_id, self.environment_id, data)
            # The dialog stays open and shows the key instead of the form (no toast).
            self.form_error = ""
            self.new_key = created.api_key_value
            self.new_key_name = created.name

        return await self._save_form(change)

    @rx.event
    async def set_enabled(self, key_id: str, enabled: bool) -> EventSpec | None:
        async def change(principal: Principal) -> str:
            key = await api_key_admin.update_key_as(principal, self.workspace_id, self.environment_id, key_id,
                                                    ApiKeyUpdate(enabled=enabled))
            return f"Key {key.name} {'enabled' if enabled else 'disabled'}"

        return await self._change_row(change, errors=(DomainError, ValidationError))

    @rx.event
    async def delete(self, key_id: str) -> EventSpec | None:
        async def change(principal: Principal) -> str:
            name = await api_key_admin.delete_key_as(principal, self.workspace_id, self.environment_id, key_id)
            return f"Key {name} deleted"

        return await self._change_row(change)


def _row(row: ApiKeyRow) -> rx.Component:
    return rx.table.row(
        cell(rx.vstack(rx.text(row.name, weight="medium"),
                       rx.text(row.description, size="1", color=rx.color("gray", 10)), spacing="0")),
        cell(mono(row.masked_key)),
        cell(rx.hstack(
            rx.cond(row.can_update,
                    rx.switch(checked=row.enabled, size="1",
                              on_change=lambda value: ApiKeysState.set_enabled(row.id, value),
                              custom_attrs={"aria-label": "Enabled " + row.name}),
                    rx.fragment()),
            enabled_badge(row.enabled), align="center", spacing="2")),
        cell(row.labels),
        cell(row.expires),
        cell(row.last_used),
        cell(row.spend),
        cell(rx.text(row.budget_spend, size="1", color_scheme="gray", custom_attrs={"data-spend": row.name})),
        actions_cell(
            delete_action(row.can_delete, "Delete " + row.name, title="Delete API key " + row.name + "?",
                          message="Clients using it are refused from now on.",
                          confirm_label="Delete key", on_confirm=ApiKeysState.delete(row.id)),
        ),
        custom_attrs={"data-row": row.name},
    )


def _new_key_view() -> rx.Component:
    return rx.dialog.root(
        rx.dialog.content(
            rx.dialog.title("API key " + ApiKeysState.new_key_name + " created"),
            rx.vstack(
                rx.callout("Copy the key now: it is not shown again. Only a masked form is kept.",
                           icon="triangle_alert", color_scheme="amber", size="1"),
                rx.hstack(
                    rx.code(ApiKeysState.new_key, size="2", custom_attrs={"data-testid": "new-api-key"},
                            style={"word_break": "break-all"}),
                    rx.icon_button(rx.icon("copy", size=14), variant="soft", size="2",
                                   on_click=[rx.set_clipboard(ApiKeysState.new_key), rx.toast.info("Copied")],
                                   custom_attrs={"aria-label": "Copy key"}, title="Copy key"),
                    align="center", width="100%",
                ),
                rx.hstack(rx.dialog.close(rx.button("Done")), justify="end", width="100%"),
                spacing="3", width="100%",
            ),
            max_width="560px",
        ),
        open=ApiKeysState.new_key != "",
        on_open_change=ApiKeysState.set_create_open,
    )


def api_keys_page() -> rx.Component:
    s = ApiKeysState
    return list_page(
        "API Keys", "Keys that clients send to call this environment's AI resources.",
        create_button("New API key", s.can_create, on_click=s.set_create_open(True)), s.list_error,
        data_table(["Name", "Key", "Status", "Labels", "Expires", "Last used", "Spend this month",
                    "Budgets (spent now)", ""], s.rows, _row,
                   empty="No API keys in this environment yet.", test_id="api-keys-table"),
        create_dialog(s, "New API key",
                      text_field("Name", "name", required=True, placeholder="backend-service", field_id="key-name"),
                      text_field("Description", "description", field_id="key-description"),
                      text_field("Labels", "labels", placeholder="team-a, batch", field_id="key-labels",
                                 hint="Comma-separated; they show up in the audit log."),
                      text_field("Expires on", "expires_at", type="date", field_id="key-expires",
                                 hint="Optional; the key stops working at the end of that day (UTC)."),
                      budget_fields("key", "", "", ""),
                      open=s.create_open & (s.new_key == ""), on_submit=s.create, submit_label="Create key",
                      description="Environment " + s.environment_name + " of " + s.workspace_name
                      + ". The key may call every AI resource of the environment."),
        _new_key_view(),
        needs=s.has_environment, needs_hint="Pick an environment (or create one) first.",
    )


def register(app: rx.App) -> None:
    register_nav_item(NavItem("API Keys", ROUTE, "key_round", order=40))
    app.add_page(api_keys_page, route=ROUTE, on_load=ApiKeysState.load, title="API Keys · VM-X")
