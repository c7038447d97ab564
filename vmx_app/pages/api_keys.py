"""API keys of the current environment: listed masked; edited in a dialog; a new or regenerated key is
shown once, with a copy button and the Connect page's snippets filled with it."""

from __future__ import annotations

import reflex as rx

from vmx_app.components.budget_editor import budget_editor, budget_fields
from vmx_app.components.capacity_editor import capacity_editor
from vmx_app.components.crud import (
    create_button,
    create_dialog,
    delete_action,
    edit_action,
    edit_dialog,
    first_item_button,
    list_page,
)
from vmx_app.components.fields import check_events, field_error, labelled
from vmx_app.components.forms import confirm_dialog, icon_action, text_field
from vmx_app.components.nav import NavItem, register_nav_item
from vmx_app.components.snippets import copy_button, snippet_tabs
from vmx_app.components.tables import actions_cell, cell, data_table, enabled_badge, mono
from vmx_app.state.api_keys import ApiKeyRow, ApiKeysState, ResourceChoice

ROUTE = "/api-keys"
S = ApiKeysState


def _row(row: ApiKeyRow) -> rx.Component:
    return rx.table.row(
        cell(rx.vstack(rx.text(row.name, weight="medium"),
                       rx.text(row.description, size="1", color=rx.color("gray", 10)), spacing="0")),
        cell(mono(row.masked_key)),
        cell(rx.hstack(
            rx.cond(row.can_update,
                    rx.switch(checked=row.enabled, size="1", on_change=lambda value: S.set_enabled(row.id, value),
                              custom_attrs={"aria-label": "Enabled " + row.name}),
                    rx.fragment()),
            enabled_badge(row.enabled), align="center", spacing="2")),
        cell(row.scope),
        cell(row.labels),
        cell(row.expires),
        cell(row.last_used),
        cell(row.spend),
        cell(rx.text(row.budget_spend, size="1", color_scheme="gray", custom_attrs={"data-spend": row.name})),
        actions_cell(
            edit_action(row.can_update, "Edit " + row.name, S.open_edit(row.id)),
            rx.cond(row.can_update,
                    confirm_dialog(icon_action("refresh_cw", "Regenerate " + row.name),
                                   title="Regenerate API key " + row.name + "?",
                                   message="A new value is shown once; the current value stops working at once.",
                                   confirm_label="Regenerate", on_confirm=S.regenerate(row.id)),
                    rx.fragment()),
            delete_action(row.can_delete, "Delete " + row.name, title="Delete API key " + row.name + "?",
                          message="Clients using it are refused from now on.",
                          confirm_label="Delete key", on_confirm=S.delete(row.id)),
        ),
        custom_attrs={"data-row": row.name},
    )


def _new_key_view() -> rx.Component:
    return rx.dialog.root(
        rx.dialog.content(
            rx.dialog.title("API key " + S.new_key_name + " " + S.new_key_verb),
            rx.vstack(
                rx.callout("Copy the key now: it is not shown again. Only a masked form is kept.",
                           icon="triangle_alert", color_scheme="amber", size="1", width="100%"),
                rx.hstack(
                    rx.code(S.new_key, size="2", custom_attrs={"data-testid": "new-api-key"},
                            style={"word_break": "break-all"}),
                    copy_button(S.new_key, "Copy key", test_id="new-api-key-copy"),
                    align="center", width="100%",
                ),
                rx.cond(S.resources.length() > 1,  # type: ignore[attr-defined]
                        rx.hstack(rx.el.label(rx.text("Snippets for", size="2"), html_for="new-key-resource"),
                                  rx.select.root(
                                      rx.select.trigger(id="new-key-resource",
                                                        custom_attrs={"aria-label": "Snippets for"}),
                                      rx.select.content(rx.foreach(S.resources, lambda r: rx.select.item(
                                          r.name, value=r.name))),
                                      value=S.new_key_resource, on_change=S.set_new_key_resource),
                                  align="center", spacing="2"),
                        rx.fragment()),
                snippet_tabs(S.new_key_snippets, prefix="new-key-snippet"),
                rx.hstack(rx.dialog.close(rx.button("Done")), justify="end", width="100%"),
                spacing="3", width="100%",
            ),
            max_width="760px",
        ),
        open=S.new_key != "",
        on_open_change=S.close_new_key,
    )


def _scope_choice(choice: ResourceChoice) -> rx.Component:
    return rx.el.label(
        rx.hstack(rx.checkbox(checked=choice.selected, on_change=lambda v: S.toggle_resource(choice.id, v),
                              id="scope-" + choice.name),
                  rx.text(choice.name, size="2"), spacing="2", align="center"),
        html_for="scope-" + choice.name,
    )


def _scope_field() -> rx.Component:
    return rx.vstack(
        rx.text("AI resources", size="2", weight="medium"),
        rx.cond(S.resources.length() > 0,  # type: ignore[attr-defined]
                rx.flex(rx.foreach(S.resources, _scope_choice), wrap="wrap", gap="3"),
                rx.text("This environment has no AI resources yet.", size="2", color=rx.color("gray", 10))),
        rx.text("None ticked: the key may call every AI resource of the environment.", size="1",
                color=rx.color("gray", 10)),
        spacing="1", width="100%",
    )


def _capacity_field() -> rx.Component:
    return rx.vstack(
        rx.hstack(rx.switch(checked=S.edit_enforce_capacity, id="key-enforce-capacity",
                            on_change=lambda v: S.set_edit_field("enforce_capacity", v)),
                  rx.el.label(rx.text("Enforce capacity limits", size="2"), html_for="key-enforce-capacity"),
                  spacing="2", align="center"),
        capacity_editor(S.capacity, prefix="key-capacity", on_add=S.add_capacity, on_change=S.set_capacity,
                        on_remove=S.remove_capacity),
        rx.cond((S.capacity.length() > 0) & ~S.edit_enforce_capacity,  # type: ignore[attr-defined]
                rx.callout("These limits are not applied while enforcement is off.", icon="triangle_alert",
                           color_scheme="amber", size="1", id="key-capacity-warning"),
                rx.fragment()),
        spacing="2", width="100%",
    )


def _edit_input(name: str, field: str, **props: object) -> rx.Component:
    """A controlled input of the edit dialog: its setter rechecks it; leaving it checks it."""
    return rx.input(id=f"edit-key-{name}", value=getattr(S, f"edit_{name}"),
                    on_change=lambda v: S.set_edit_field(name, v), **check_events(S, "edit", field, on_change=False),
                    **props)


def _budgets_field() -> rx.Component:
    return rx.vstack(
        rx.text("Budgets", size="2", weight="medium"),
        budget_editor(S.budgets, prefix="key-budget", on_add=S.add_budget, on_change=S.set_budget,
                      on_remove=S.remove_budget, errors=S.field_errors, on_check=S.check_budget),
        field_error(S.field_errors.get("budgets", ""), "key-budget"),
        rx.text("Calls are refused once a budget's window has spent its amount.", size="1",
                color=rx.color("gray", 10)),
        spacing="1", width="100%",
    )


def _edit_fields() -> list[rx.Component]:
    e = S.field_errors
    return [
        labelled("Name", "edit-key-name", _edit_input("name", "name", required=True), e.get("name", ""),
                 required=True),
        labelled("Description", "edit-key-description", _edit_input("description", "description"),
                 e.get("description", "")),
        labelled("Labels", "edit-key-labels", _edit_input("labels", "labels"),
                 e.get("labels", ""), hint="Comma-separated; they show up in the audit log."),
        labelled("Expires on", "edit-key-expires", _edit_input("expires", "expires_at", type="date"),
                 e.get("expires_at", ""), hint="Empty: never. The key stops working at the end of that day (UTC)."),
        rx.hstack(rx.switch(checked=S.edit_enabled, id="edit-key-enabled",
                            on_change=lambda v: S.set_edit_field("enabled", v)),
                  rx.el.label(rx.text("Enabled", size="2"), html_for="edit-key-enabled"), spacing="2"),
        _scope_field(),
        _capacity_field(),
        _budgets_field(),
    ]


def api_keys_page() -> rx.Component:
    e = S.field_errors
    return list_page(
        "API Keys", "Keys that clients send to call this environment's AI resources.",
        create_button("New API key", S.can_create, on_click=S.set_create_open(True), id="new-api-key"),
        S.list_error,
        data_table(["Name", "Key", "Status", "Resources", "Labels", "Expires", "Last used", "Spend this month",
                    "Budgets (spent now)", ""], S.rows, _row,
                   empty="No API keys in this environment yet. Your code sends one to call the resources.",
                   test_id="api-keys-table",
                   empty_action=first_item_button("Create an API key", S.can_create,
                                                  on_click=S.set_create_open(True), test_id="first-api-key")),
        create_dialog(S, "New API key",
                      text_field("Name", "name", field_id="key-name", required=True, placeholder="backend-service",
                                 check=(S, "create")),
                      text_field("Description", "description", field_id="key-description", check=(S, "create")),
                      text_field("Labels", "labels", field_id="key-labels", placeholder="team-a, batch",
                                 hint="Comma-separated; they show up in the audit log.", check=(S, "create")),
                      text_field("Expires on", "expires_at", field_id="key-expires", type="date", check=(S, "create"),
                                 hint="Optional; the key stops working at the end of that day (UTC)."),
                      budget_fields("key", "", "", "", check=(S, "create")),
                      field_error(e.get("budgets", ""), "key-budgets"),
                      open=S.create_open & (S.new_key == ""), on_submit=S.create, submit_label="Create key",
                      description="Environment " + S.environment_name + " of " + S.workspace_name
                      + ". The key may call every AI resource of the environment; narrow it by editing it."),
        edit_dialog(S, "Edit API key", *_edit_fields(), on_submit=S.save_edit, submit_label="Save key"),
        _new_key_view(),
        needs=S.has_environment, needs_hint="Pick an environment (or create one) first.",
    )


def register(app: rx.App) -> None:
    register_nav_item(NavItem("API Keys", ROUTE, "key_round", order=40))
    app.add_page(api_keys_page, route=ROUTE, on_load=S.load, title="API Keys · VM-X")
