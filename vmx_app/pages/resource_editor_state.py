"""State of the resource editor (`/ai-resources/edit?id=…`; no id = new).

The tabs edit one form (see resource_editor_form); the JSON tab edits the same thing as the exact API
shape. Saving from the JSON tab sends the JSON as written; saving from a form tab sends `form_to_api`.
"""

from __future__ import annotations

import dataclasses
import json
from typing import Any, ClassVar

import reflex as rx
from pydantic import BaseModel, ValidationError
from reflex.event import EventSpec

from vmx_app.errors import DomainError
from vmx_app.gateway.config import ModelSlot, RoutingThen
from vmx_app.models.ai_resource import AIResourceCreate
from vmx_app.pages.resource_editor_form import (
    FormError,
    ResourceForm,
    SlotRow,
    api_to_form,
    default_args_api,
    editable_shape,
    form_to_api,
)
from vmx_app.pages.resource_editor_keys import ResourceKeysMixin, key_option
from vmx_app.pages.resource_editor_routing import RoutingConditionsMixin
from vmx_app.services import ai_resources as service
from vmx_app.services import resource_admin
from vmx_app.state.access import Principal, allowed
from vmx_app.state.budget_rows import BudgetRowsMixin
from vmx_app.state.capacity_rows import CapacityRowsMixin
from vmx_app.state.connections import options_of, problem_text
from vmx_app.state.live_usage import with_spend, with_usage
from vmx_app.state.messages import error_text
from vmx_app.state.workspace import WorkspaceState

MODULE = resource_admin.MODULE
ROUTING_TEST_ACTION = f"{MODULE}:routing-test"
LIST_ROUTE = "/ai-resources"
EDIT_ROUTE = "/ai-resources/edit"
SLOT_LISTS = ("secondary_models", "fallback_models")
MAX_KEYS = 500


def json_problem(text: str) -> str:
    """What keeps the JSON view's text from being a resource body, in words ("" when nothing)."""
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        return f"Not valid JSON: {exc.msg} at line {exc.lineno}, column {exc.colno}."
    return "" if isinstance(data, dict) else "The resource must be a JSON object."


class ResourceEditorState(BudgetRowsMixin, CapacityRowsMixin, ResourceKeysMixin, RoutingConditionsMixin,
                          WorkspaceState):  # budget rows bring the field checks (FieldCheckMixin)
    # Checked as they are filled, with the schemas the service validates the resource with.
    FIELD_SCHEMAS: ClassVar[dict[str, type[BaseModel]]] = {"resource": AIResourceCreate, "slot": ModelSlot,
                                                           "then": RoutingThen}
    # What the General tab shows next to its field (`model`: the primary slot); the rest in the banner.
    FORM_FIELDS: ClassVar[frozenset[str]] = frozenset({"name", "description", "default_args", "model"})
    resource_id: str = ""
    loaded: bool = False
    can_save: bool = False
    can_test_routing: bool = False  # the same action the API's routing-test route checks
    error: str = ""
    tab: str = "general"
    name: str = ""
    description: str = ""
    model: SlotRow = SlotRow()
    secondary_models: list[SlotRow] = []
    use_fallback: bool = False
    fallback_models: list[SlotRow] = []
    routing_enabled: bool = False
    routing_mode: str = ""
    routing_present: bool = False
    enforce_capacity: bool = False
    default_args: str = "{}"
    allow_overrides: bool = True
    json_text: str = ""
    json_error: str = ""
    connections: list[dict[str, str]] = []

    @rx.var
    def is_new(self) -> bool:
        return self.resource_id == ""

    # ---- form <-> vars ---------------------------------------------------------------------------------

    def _form(self) -> ResourceForm:
        return ResourceForm(
            name=self.name, description=self.description, model=self.model,
            secondary_models=list(self.secondary_models), use_fallback=self.use_fallback,
            fallback_models=list(self.fallback_models), routing_enabled=self.routing_enabled,
            routing_mode=self.routing_mode, routing_present=self.routing_present, conditions=list(self.conditions),
            capacity=list(self.capacity), enforce_capacity=self.enforce_capacity, default_args=self.default_args,
            budgets=list(self.budgets), allow_overrides=self.allow_overrides)

    def _set_form(self, form: ResourceForm) -> None:
        for f in dataclasses.fields(ResourceForm):
            setattr(self, f.name, getattr(form, f.name))

    def _names(self) -> dict[str, str]:
        return {o["name"]: o["id"] for o in self.connections}

    def _provider_of(self, connection_id: str) -> str:
        return next((o["provider"] for o in self.connections if o["id"] == connection_id), "")

    def _refresh_json(self) -> None:
        try:
            self.json_text = json.dumps(form_to_api(self._form()), indent=2)
            self.json_error = ""
        except FormError as exc:
            self.json_error = f"{exc} (fix it on the General tab)"

    # ---- load ------------------------------------------------------------------------------------------

    @rx.event
    async def load(self) -> EventSpec | None:
        principal = await self.principal_or_redirect()
        if not isinstance(principal, Principal):
            return principal
        await self.load_context(principal)
        self._set_form(ResourceForm())
        self.loaded, self.error, self.tab, self.json_error, self.keys_note = False, "", "general", "", ""
        self.field_errors = {}
        self.connections, self.api_keys = [], []
        self.resource_id = self.router.url.query_parameters.get("id", "")
        if not self.environment_id:
            return None
        try:
            ctx = await resource_admin.open_editor_as(principal, self.workspace_id, self.environment_id,
                                                      self.resource_id, max_keys=MAX_KEYS)
        except DomainError as exc:
            self.error = error_text(exc)
            return None
        row, base = ctx.row, ctx.base
        item = f"{MODULE}:{row.name}" if row is not None else MODULE
        self.connections = options_of(ctx.connections, ctx.models)
        if ctx.api_keys is not None:
            self.api_keys = [key_option(str(k.id), k.name, k.masked_key, k.resources,
                                        str(row.id) if row is not None else "") for k in ctx.api_keys]
        else:
            self.keys_note = "You may not list this environment's API keys."
        if row is not None:
            self._set_form(api_to_form(service.to_public(row).model_dump(by_alias=True, mode="json")))
            self.capacity = await with_usage(self.capacity, self.environment_id, "resource", self.resource_id)
            self.budgets = await with_spend(self.budgets, self.environment_id, "resource", self.resource_id)
        elif self.connections:
            first = self.connections[0]
            self.model = SlotRow(provider=first["provider"], connection_id=first["id"])
        self.can_save = allowed(principal, f"{MODULE}:{'update' if row is not None else 'create'}", f"{base}:{item}")
        self.can_test_routing = allowed(principal, ROUTING_TEST_ACTION, f"{base}:{item}")
        self._refresh_json()
        self.loaded = True
        return None

    # ---- general -----------------------------------------------------------------------------------------

    def _field_value(self, form: str, name: str, raw: Any) -> Any:
        if name == "default_args":  # typed as JSON text; the schema takes the object
            try:
                return default_args_api(str(raw))
            except FormError as exc:
                text = str(exc).removeprefix("defaultArgs: ")
                raise ValueError(text[:1].upper() + text[1:] + ".") from None
        return raw

    @rx.event
    def set_name(self, value: str) -> None:
        self.name = value
        self._recheck("resource", "name", value)

    @rx.event
    def set_description(self, value: str) -> None:
        self.description = value
        self._recheck("resource", "description", value)

    @rx.event
    def set_default_args(self, value: str) -> None:
        self.default_args = value
        self._recheck("resource", "default_args", value)

    @rx.event
    def set_use_fallback(self, value: bool) -> None:
        self.use_fallback = value

    @rx.event
    def set_routing_enabled(self, value: bool) -> None:
        self.routing_enabled = value

    @rx.event
    def set_enforce_capacity(self, value: bool) -> None:
        self.enforce_capacity = value

    @rx.event
    def set_allow_overrides(self, value: bool) -> None:
        self.allow_overrides = value

    # ---- model slots -------------------------------------------------------------------------------------

    def _slot_change(self, slot: SlotRow, key: str, value: Any) -> SlotRow:
        slot = dataclasses.replace(slot, **{key: value})
        if key == "provider" and slot.connection_id and self._provider_of(slot.connection_id) != value:
            slot = dataclasses.replace(slot, connection_id="")  # that connection is another provider's
        return slot

    def _slot_connection(self, slot: SlotRow, connection_id: str) -> SlotRow:
        provider = self._provider_of(connection_id) or slot.provider
        return dataclasses.replace(slot, connection_id=connection_id, connection_name="", provider=provider)

    @rx.event
    def set_primary(self, key: str, value: str) -> None:
        self.model = self._slot_change(self.model, key, value)
        self._recheck("slot", key, value)

    @rx.event
    def set_primary_connection(self, connection_id: str) -> None:
        self.model = self._slot_connection(self.model, connection_id)

    def _update_list(self, name: str, index: int, slot: SlotRow) -> None:
        if name in SLOT_LISTS:
            rows = list(getattr(self, name))
            rows[index] = slot
            setattr(self, name, rows)

    @rx.event
    def set_slot(self, name: str, index: int, key: str, value: str) -> None:
        self._update_list(name, index, self._slot_change(getattr(self, name)[index], key, value))
        self._recheck("slot", f"{name}.{index}.{key}", value)

    @rx.event
    def set_slot_connection(self, name: str, index: int, connection_id: str) -> None:
        self._update_list(name, index, self._slot_connection(getattr(self, name)[index], connection_id))

    @rx.event
    def add_slot(self, name: str) -> None:
        if name in SLOT_LISTS:
            # A new slot starts from the primary's provider and connection: the usual case is another model.
            setattr(self, name, [*getattr(self, name), SlotRow(provider=self.model.provider,
                                                                connection_id=self.model.connection_id)])

    @rx.event
    def remove_slot(self, name: str, index: int) -> None:
        if name in SLOT_LISTS:
            setattr(self, name, [s for i, s in enumerate(getattr(self, name)) if i != index])
            self._forget_row_errors(f"{name}.")

    @rx.event
    def move_slot_up(self, name: str, index: int) -> None:
        rows = list(getattr(self, name))
        if name in SLOT_LISTS and 0 < index < len(rows):
            rows[index - 1], rows[index] = rows[index], rows[index - 1]
            setattr(self, name, rows)
            self._forget_row_errors(f"{name}.")

    # ---- JSON view ---------------------------------------------------------------------------------------

    @rx.event
    def set_json_text(self, value: str) -> None:
        self.json_text = value
        if self.json_error:  # a fixed error clears at once (and a changed one says what is wrong now)
            self.json_error = json_problem(value)

    def _apply_json(self) -> bool:
        self.json_error = json_problem(self.json_text)
        if self.json_error:
            return False
        self._set_form(api_to_form(json.loads(self.json_text), self._names()))
        self.json_error = ""
        return True

    @rx.event
    def apply_json(self) -> None:
        self._apply_json()

    @rx.event
    def set_tab(self, value: str) -> None:
        if self.tab == "json" and value != "json" and not self._apply_json():
            return  # stay on the JSON tab until it parses
        self.tab = value
        if value == "json":
            self._refresh_json()

    # ---- save --------------------------------------------------------------------------------------------

    def _payload(self) -> dict[str, Any]:
        """What to send: the JSON as written on the JSON tab, the form's API shape elsewhere."""
        if self.tab == "json":
            data = json.loads(self.json_text)
            if not isinstance(data, dict):
                raise FormError("The resource must be a JSON object")
            return data
        return form_to_api(self._form())

    @rx.event
    async def save(self) -> EventSpec | list[EventSpec] | None:
        principal = await self.current_principal()
        if principal is None:
            return rx.redirect("/login", replace=True)
        self.error, self.field_errors = "", {}
        if self.tab != "json" and not (
                self._check_all("resource", {"name": self.name, "description": self.description,
                                             "default_args": self.default_args})
                & self._check_all("slot", {"model": self.model.model})):
            return None  # each said next to its field
        try:
            payload = self._payload()
        except (FormError, json.JSONDecodeError) as exc:
            self.error = str(exc)
            return None
        keys: list[Any] = [k.id for k in self.api_keys if k.selected and not k.assigned]
        if isinstance(payload.get("assignApiKeys"), list):  # the JSON view may name keys too
            keys = [*payload["assignApiKeys"], *keys]
        try:
            public = (await resource_admin.save_resource_as(
                principal, self.workspace_id, self.environment_id, self.resource_id,
                {**payload, "assignApiKeys": keys})).model_dump(by_alias=True, mode="json")
        except (DomainError, ValidationError) as exc:
            # On a form tab, errors about its fields go next to them; the JSON tab shows everything above.
            shown = self.FORM_FIELDS if self.tab != "json" else frozenset()
            self.error = self._place_refusal(exc, shown, problem_text(exc))
            return None
        toast = rx.toast.success(f"Resource {public['name']} saved")
        if not self.resource_id:
            return [toast, rx.redirect(f"{EDIT_ROUTE}?id={public['id']}", replace=True)]
        self._set_form(api_to_form(public, self._names()))
        self.api_keys = [dataclasses.replace(k, assigned=k.assigned or k.selected, selected=False)
                         for k in self.api_keys]
        self.json_text, self.json_error = json.dumps(editable_shape(public), indent=2), ""
        return toast

