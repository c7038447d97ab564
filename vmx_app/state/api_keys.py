"""API keys of the current environment: list, create, edit (name, labels, resource scope, expiry,
enabled, capacity, budgets), regenerate, delete. A key's value is shown once, with ready-to-run snippets.
Both dialogs check their fields as they are filled, with the schemas the service validates the key with."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, time
from typing import Any, ClassVar

import reflex as rx
from pydantic import BaseModel, ValidationError
from reflex.event import EventSpec

from vmx_app.auth.policy import module_resource
from vmx_app.components.budget_editor import budget_entries, budget_rows
from vmx_app.components.capacity_editor import capacity_entries, capacity_rows
from vmx_app.errors import DomainError, Invalid
from vmx_app.models.api_key import ApiKeyCreate, ApiKeyCreated, ApiKeyUpdate
from vmx_app.services import api_key_admin, audit_admin
from vmx_app.services.connect_snippets import Snippet, gateway_base, snippets
from vmx_app.state.access import Principal, allowed
from vmx_app.state.budget_rows import BudgetRowsMixin, QuickBudgetsMixin
from vmx_app.state.capacity_rows import CapacityRowsMixin
from vmx_app.state.connect import PLACEHOLDER_RESOURCE, public_origin
from vmx_app.state.crud import EditDialogMixin
from vmx_app.state.format import csv_list, when
from vmx_app.state.live_usage import budget_texts, budgets_of, with_spend
from vmx_app.state.messages import error_text
from vmx_app.state.session import login_redirect
from vmx_app.state.workspace import MAX_OPTIONS, WorkspaceState

MODULE = "api-key"


@dataclasses.dataclass
class ApiKeyRow:
    id: str = ""
    name: str = ""
    description: str = ""
    masked_key: str = ""
    enabled: bool = True
    labels: str = ""
    scope: str = ""  # "all resources" or the resource names
    expires: str = ""
    expires_date: str = ""  # YYYY-MM-DD for the date input
    last_used: str = ""
    spend: str = ""  # spent this month, from the audit rows
    budget_spend: str = ""  # live spend of each budget's current window
    can_update: bool = False
    can_delete: bool = False


@dataclasses.dataclass
class ResourceChoice:
    id: str = ""
    name: str = ""
    selected: bool = False


def end_of_day(value: str) -> datetime | None:
    """`2027-01-31` from a date input → the end of that day, UTC; "" → no expiry."""
    if not value:
        return None
    try:
        return datetime.combine(datetime.strptime(value, "%Y-%m-%d").date(), time(23, 59, 59), tzinfo=UTC)
    except ValueError as exc:
        raise Invalid("expiresAt: not a date", field="expiresAt",
                      details=[{"field": "expiresAt", "message": "enter a date"}]) from exc


class ApiKeysState(BudgetRowsMixin, QuickBudgetsMixin, CapacityRowsMixin, EditDialogMixin, WorkspaceState):
    FORM_FIELDS: ClassVar[frozenset[str]] = frozenset({"name", "description", "labels", "expires_at", "budgets"})
    FIELD_SCHEMAS: ClassVar[dict[str, type[BaseModel]]] = {"create": ApiKeyCreate, "edit": ApiKeyCreate}
    rows: list[ApiKeyRow] = []
    resources: list[ResourceChoice] = []  # the edit form's scope checkboxes
    origin: str = ""
    # The edit form (controlled: the scope and capacity need state anyway).
    edit_name: str = ""
    edit_description: str = ""
    edit_labels: str = ""
    edit_expires: str = ""
    edit_enabled: bool = True
    edit_enforce_capacity: bool = False
    # The one time a key's value exists outside the caller's hands; cleared when its dialog closes.
    new_key: str = ""
    new_key_name: str = ""
    new_key_verb: str = "created"
    new_key_resource: str = ""

    @rx.var
    def new_key_snippets(self) -> list[Snippet]:
        if not self.new_key:
            return []
        base = gateway_base(self.origin, self.workspace_id, self.environment_id)
        return snippets(base, self.new_key_resource or PLACEHOLDER_RESOURCE, self.new_key)

    @rx.event
    async def load(self) -> EventSpec | None:
        self._forget_new_key()
        self.origin = public_origin(self.router.url.origin)
        return await super().load()

    def _forget_new_key(self) -> None:
        self.new_key = self.new_key_name = self.new_key_resource = ""

    async def _refresh(self, principal: Principal) -> None:
        await self.load_context(principal)
        self.rows, self.list_error, self.can_create, self.resources = [], "", False, []
        if not self.environment_id:
            return
        base = module_resource(self.workspace_name, self.environment_name, MODULE)
        self.can_create = allowed(principal, "api-key:create", base)
        try:
            keys, resources = await api_key_admin.list_keys_and_resources_as(
                principal, self.workspace_id, self.environment_id, limit=MAX_OPTIONS)
        except DomainError as exc:
            self.list_error = error_text(exc)
            return
        names = {str(r.id): r.name for r in resources}
        self.resources = [ResourceChoice(id=str(r.id), name=r.name) for r in resources]
        month = await audit_admin.key_spend_this_month_as(principal, self.workspace_id, self.environment_id)
        rows = []
        for k in keys:
            _, budget_spend = await budget_texts("api-key", k)
            rows.append(ApiKeyRow(
                id=str(k.id), name=k.name, description=k.description or "", masked_key=k.masked_key,
                enabled=k.enabled, labels=", ".join(k.labels),
                scope=", ".join(names.get(r, "?") for r in k.resources) if k.resources else "all resources",
                expires=when(k.expires_at, never="never"),
                expires_date=k.expires_at.astimezone(UTC).strftime("%Y-%m-%d") if k.expires_at else "",
                last_used=when(k.last_used_at, never="never"),
                spend="—" if month is None else f"${month.get(str(k.id), 0.0):,.4f}", budget_spend=budget_spend,
                can_update=allowed(principal, "api-key:update", f"{base}:{k.name}"),
                can_delete=allowed(principal, "api-key:delete", f"{base}:{k.name}"),
            ))
        self.rows = rows

    def _show_new_key(self, created: ApiKeyCreated, verb: str) -> None:
        self.new_key, self.new_key_name, self.new_key_verb = created.api_key_value, created.name, verb
        scoped = [r.name for r in self.resources if r.id in created.resources]
        self.new_key_resource = (scoped or [r.name for r in self.resources] or [""])[0]

    def _field_value(self, form: str, name: str, raw: Any) -> Any:
        """The dialogs take labels comma-separated and the expiry as a date."""
        if name == "labels":
            return csv_list(str(raw))
        if name == "expires_at":
            return end_of_day(str(raw))
        return super()._field_value(form, name, raw)

    @rx.event
    def set_create_open(self, value: bool) -> None:
        super().set_create_open(value)
        if not value:
            self._forget_new_key()

    @rx.event
    def set_new_key_resource(self, name: str) -> None:
        self.new_key_resource = name

    @rx.event
    async def create(self, form: dict[str, Any]) -> EventSpec | None:
        async def change(principal: Principal) -> None:
            data = ApiKeyCreate(name=form.get("name", ""), description=form.get("description") or None,
                                labels=csv_list(str(form.get("labels", ""))),
                                expires_at=end_of_day(str(form.get("expires_at", ""))),
                                budgets=budgets_of(form))
            created = await api_key_admin.create_key_as(principal, self.workspace_id, self.environment_id, data)
            # The dialog stays open and shows the key instead of the form (no toast).
            self.form_error = ""
            self._show_new_key(created, "created")

        return await self._save_form(change)

    # ---- edit --------------------------------------------------------------------------------------------

    @rx.event
    def start_edit(self, item_id: str) -> None:
        super().start_edit(item_id)
        row = next((r for r in self.rows if r.id == item_id), None)
        if row is None:
            return
        self.edit_name, self.edit_description, self.edit_labels = row.name, row.description, row.labels
        self.edit_expires, self.edit_enabled = row.expires_date, row.enabled

    @rx.event
    async def open_edit(self, item_id: str) -> EventSpec | None:
        """Fill the edit form from the stored key (scope and capacity are not in the table row)."""
        self.start_edit(item_id)
        principal = await self.current_principal()
        if principal is None:
            return login_redirect()
        try:
            key = await api_key_admin.get_key_as(principal, self.workspace_id, self.environment_id, item_id)
        except DomainError as exc:
            self.edit_open = False
            return rx.toast.error(error_text(exc))
        self.resources = [dataclasses.replace(r, selected=r.id in key.resources) for r in self.resources]
        self.capacity = capacity_rows(key.capacity)
        self.budgets = await with_spend(budget_rows(key.budgets), self.environment_id, "api-key", item_id)
        self.edit_enforce_capacity = key.enforce_capacity
        return None

    @rx.event
    def set_edit_field(self, name: str, value: Any) -> None:
        setattr(self, f"edit_{name}", value)
        self._recheck("edit", "expires_at" if name == "expires" else name, value)

    @rx.event
    def toggle_resource(self, resource_id: str, selected: bool) -> None:
        self.resources = [dataclasses.replace(r, selected=selected) if r.id == resource_id else r
                          for r in self.resources]

    def _update_data(self) -> ApiKeyUpdate:
        """The PUT body the API takes for this form (budgets included: the API's own validation names them)."""
        return ApiKeyUpdate.model_validate({
            "name": self.edit_name, "description": self.edit_description or None,
            "labels": csv_list(self.edit_labels), "enabled": self.edit_enabled,
            "resources": [r.id for r in self.resources if r.selected],
            "capacity": capacity_entries(self.capacity), "enforceCapacity": self.edit_enforce_capacity,
            "budgets": budget_entries(self.budgets), "expiresAt": end_of_day(self.edit_expires),
        })

    @rx.event
    async def save_edit(self, _form: dict[str, Any] | None = None) -> EventSpec | None:
        async def change(principal: Principal) -> str:
            data = self._update_data()
            await api_key_admin.update_key_as(principal, self.workspace_id, self.environment_id, self.edit_id, data)
            self.edit_open = False
            return f"Key {data.name} saved"

        return await self._save_form(change)

    # ---- one-click changes ---------------------------------------------------------------------------------

    @rx.event
    async def regenerate(self, key_id: str) -> EventSpec | None:
        async def change(principal: Principal) -> None:
            created = await api_key_admin.regenerate_key_as(principal, self.workspace_id, self.environment_id,
                                                            key_id)
            self._show_new_key(created, "regenerated")

        return await self._change_row(change)

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

    @rx.event
    def close_new_key(self, value: bool) -> None:
        if not value:
            self._forget_new_key()
            self.create_open = False
