"""The resource editor's tab contents: General, Fallback, Routing, Capacity, API keys and JSON."""

from __future__ import annotations

import reflex as rx

from vmx_app.components.budget_editor import budget_editor
from vmx_app.components.capacity_editor import capacity_editor
from vmx_app.components.fields import check_events, labelled
from vmx_app.components.json_editor import json_editor
from vmx_app.components.model_slot import model_slot
from vmx_app.components.routing_builder import RoutingHandlers, routing_builder
from vmx_app.components.tables import mono
from vmx_app.pages.resource_editor_keys import KeyOption
from vmx_app.pages.resource_editor_state import ResourceEditorState
from vmx_app.pages.routing_test_panel import routing_test_panel

S = ResourceEditorState
READ_ONLY = ~S.can_save




def _switch(label: str, checked: rx.Var, on_change: object, element_id: str) -> rx.Component:
    return rx.hstack(rx.switch(checked=checked, on_change=on_change, id=element_id, disabled=READ_ONLY,
                               custom_attrs={"aria-label": label}),
                     rx.el.label(rx.text(label, size="2", weight="medium"), html_for=element_id),
                     align="center", spacing="2")


def _slot_list(name: str, prefix: str, add_label: str, *, ordered: bool) -> rx.Component:
    rows = getattr(S, name)
    return rx.vstack(
        rx.foreach(rows, lambda slot, i: rx.card(rx.hstack(
            rx.badge(i + 1, variant="outline"),
            model_slot(slot, prefix=f"{prefix}-{i}", connections=S.connections,
                       on_field=lambda key, value: S.set_slot(name, i, key, value),
                       on_connection=lambda v: S.set_slot_connection(name, i, v),
                       on_remove=S.remove_slot(name, i), on_up=S.move_slot_up(name, i) if ordered else None,
                       read_only=READ_ONLY, errors=S.field_errors, key=name + "." + i.to(str) + ".",
                       on_check=lambda k, v: S.check_field("slot", k, v)),
            align="center", spacing="3", width="100%"), width="100%")),
        rx.button(rx.icon("plus", size=14), add_label, on_click=S.add_slot(name), variant="soft", type="button",
                  id=f"{prefix}-add", disabled=READ_ONLY),
        spacing="2", width="100%",
    )


def general_tab() -> rx.Component:
    return rx.vstack(
        rx.grid(
            labelled("Name", "resource-name", rx.input(
                value=S.name, on_change=S.set_name, id="resource-name", placeholder="chat", disabled=READ_ONLY,
                width="100%", required=True, **check_events(S, "resource", "name", on_change=False)),
                S.field_errors.get("name", ""), required=True, hint="What applications send as model; no spaces."),
            labelled("Description", "resource-description", rx.input(
                value=S.description, on_change=S.set_description, id="resource-description", disabled=READ_ONLY,
                width="100%", **check_events(S, "resource", "description", on_change=False)),
                S.field_errors.get("description", "")),
            columns="2", spacing="4", width="100%",
        ),
        rx.heading("Primary model", size="3"),
        model_slot(S.model, prefix="primary", connections=S.connections, on_field=S.set_primary,
                   on_connection=S.set_primary_connection, read_only=READ_ONLY,
                   errors=S.field_errors, on_check=lambda k, v: S.check_field("slot", k, v)),
        rx.heading("Secondary models", size="3"),
        rx.text("Pinned per request with vmx.secondaryModelIndex (0 = the first below); routing is skipped, "
                "fallback still applies.", size="2", color_scheme="gray"),
        _slot_list("secondary_models", "secondary", "Add secondary model", ordered=False),
        rx.heading("Default args", size="3"),
        json_editor(S.default_args, on_change=S.set_default_args, element_id="resource-default-args", rows="6",
                    read_only=READ_ONLY, placeholder='{"temperature": 0.2}', label="Default args",
                    error=S.field_errors.get("default_args", ""),
                    on_blur=lambda v: S.check_field("resource", "default_args", v)),
        rx.text("Deep-merged into every request; the caller's body and vmx.providerArgs win.", size="1",
                color_scheme="gray"),
        _switch("Allow request overrides", S.allow_overrides, S.set_allow_overrides, "resource-allow-overrides"),
        rx.text("vmx.resourceConfigOverrides may patch this resource per request, naming only the connections it "
                "already uses (any connection for API keys labelled overrides:any).", size="1", color_scheme="gray"),
        spacing="3", width="100%",
    )


def fallback_tab() -> rx.Component:
    return rx.vstack(
        _switch("Use fallback", S.use_fallback, S.set_use_fallback, "resource-use-fallback"),
        rx.text("Tried in order when the chosen model fails with a 5xx, 429, timeout, network error or a capacity "
                "denial; never on the client's own 4xx.", size="2", color_scheme="gray"),
        _slot_list("fallback_models", "fallback", "Add fallback model", ordered=True),
        spacing="3", width="100%",
    )


def routing_tab() -> rx.Component:
    handlers = RoutingHandlers(
        set_condition=S.set_condition, set_clause=S.set_clause, set_then=S.set_then,
        set_then_connection=S.set_then_connection, add_clause=S.add_clause, remove_clause=S.remove_clause,
        remove_condition=S.remove_condition, move_condition_up=S.move_condition_up, check_field=S.check_field,
    )
    return rx.vstack(
        _switch("Routing enabled", S.routing_enabled, S.set_routing_enabled, "resource-routing-enabled"),
        rx.cond(~S.routing_enabled & (S.conditions.length() > 0),  # type: ignore[attr-defined]
                rx.callout("Routing is disabled: these conditions are kept but not applied; every request "
                           "goes to the primary model.", icon="triangle_alert", color_scheme="amber", size="1",
                           id="routing-disabled-warning"),
                rx.fragment()),
        routing_builder(S.conditions, connections=S.connections, handlers=handlers, on_add=S.add_condition,
                        read_only=READ_ONLY, errors=S.field_errors),
        routing_test_panel(),
        spacing="3", width="100%",
    )


def capacity_tab() -> rx.Component:
    return rx.vstack(
        _switch("Enforce capacity", S.enforce_capacity, S.set_enforce_capacity, "resource-enforce-capacity"),
        rx.text("When enforced, these limits apply to this resource's requests (connection limits always apply).",
                size="2", color_scheme="gray"),
        rx.cond(~S.enforce_capacity & (S.capacity.length() > 0),  # type: ignore[attr-defined]
                rx.callout("Enforcement is off: these limits are not applied to this resource's requests.",
                           icon="triangle_alert", color_scheme="amber", size="1", id="capacity-disabled-warning"),
                rx.fragment()),
        capacity_editor(S.capacity, prefix="res-capacity", on_add=S.add_capacity, on_change=S.set_capacity,
                        on_remove=S.remove_capacity, read_only=READ_ONLY),
        rx.heading("Spend budgets", size="3"),
        rx.text("Each request reserves its worst-case cost; a request that would not fit is refused (429).",
                size="2", color_scheme="gray"),
        budget_editor(S.budgets, prefix="res-budget", on_add=S.add_budget, on_change=S.set_budget,
                      on_remove=S.remove_budget, read_only=READ_ONLY, errors=S.field_errors,
                      on_check=S.check_budget),
        spacing="3", width="100%",
    )


def _key_row(key: KeyOption) -> rx.Component:
    return rx.table.row(
        rx.table.cell(rx.checkbox(checked=key.assigned | key.selected, on_change=lambda v: S.toggle_key(key.id, v),
                                  disabled=key.only_this | READ_ONLY, id=f"key-{key.id}",
                                  custom_attrs={"aria-label": "Assign " + key.name})),
        rx.table.cell(rx.text(key.name, weight="medium")),
        rx.table.cell(mono(key.masked)),
        rx.table.cell(rx.cond(
            key.assigned, rx.cond(key.only_this,
                                  rx.badge("its only resource", color_scheme="green", high_contrast=True),
                                  rx.badge("assigned", color_scheme="green", high_contrast=True)),
            rx.cond(key.every_resource,
                    rx.cond(key.selected,
                            rx.badge("will reach only the resources assigned to it", color_scheme="amber",
                                     high_contrast=True),
                            rx.badge("reaches every resource", color_scheme="gray")),
                    rx.fragment()))),
    )


def api_keys_tab() -> rx.Component:
    return rx.vstack(
        rx.cond(S.is_new,
                rx.text("Checked keys get this resource added to their list when you save. A key with no "
                        "resources reaches every resource.", size="2", color_scheme="gray"),
                rx.text("Ticking assigns a key to this resource at once; unticking unassigns it. A key with no "
                        "resources reaches every resource, so a key's only resource cannot be unticked here.",
                        size="2", color_scheme="gray")),
        rx.cond(S.keys_note != "", rx.text(S.keys_note, size="2", color_scheme="amber"), rx.fragment()),
        rx.cond(S.api_keys.length() > 0,  # type: ignore[attr-defined]
                rx.table.root(
                    rx.table.header(rx.table.row(*[rx.table.column_header_cell(c)
                                                   for c in ("", "Name", "Key", "")])),
                    rx.table.body(rx.foreach(S.api_keys, _key_row)), variant="surface", width="100%"),
                rx.text("No API keys in this environment.", size="2", color_scheme="gray")),
        spacing="3", width="100%",
    )


def json_tab() -> rx.Component:
    return rx.vstack(
        rx.text("The resource exactly as the API takes and returns it. Save sends this JSON as written; "
                "switching to another tab (or Apply) loads it into the form.", size="2", color_scheme="gray"),
        json_editor(S.json_text, on_change=S.set_json_text, element_id="resource-json", error=S.json_error,
                    rows="28", read_only=READ_ONLY, label="Resource as JSON"),
        rx.button("Apply to form", on_click=S.apply_json, variant="soft", type="button", id="resource-json-apply",
                  disabled=READ_ONLY),
        spacing="3", width="100%",
    )
