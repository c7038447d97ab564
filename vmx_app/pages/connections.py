"""AI connections: the list (`/ai-connections`) and the editor (`/ai-connections/edit?id=…`)."""

from __future__ import annotations

import reflex as rx

from vmx_app.components.capacity_editor import capacity_editor
from vmx_app.components.crud import create_button, delete_action, first_item_button, list_page
from vmx_app.components.fields import check_events, labelled
from vmx_app.components.forms import icon_action
from vmx_app.components.layout import console_layout, page_header
from vmx_app.components.nav import NavItem, register_nav_item
from vmx_app.components.schema_form import SECRETS_SCRIPT, schema_form
from vmx_app.components.tables import actions_cell, cell, data_table, mono, notice, requires_selection
from vmx_app.state.connections import (
    PROVIDER_OPTIONS,
    ConnectionEditorState,
    ConnectionRow,
    ConnectionsState,
    DiscoveredRow,
)
from vmx_app.state.workspace import WorkspaceState

LIST_ROUTE = "/ai-connections"
EDIT_ROUTE = "/ai-connections/edit"
NO_ENV = "Choose a workspace and an environment (top left) to see its AI connections."


def _credentials_badge(row: ConnectionRow) -> rx.Component:
    """What is known about the credentials: unreadable, or the last test's result, or not tested."""
    return rx.cond(
        row.credentials != "ok", rx.badge("unreadable: enter again", color_scheme="red", high_contrast=True),
        rx.match(row.test_status,
                 ("ok", rx.badge("ok", color_scheme="green", high_contrast=True, title=row.test_message)),
                 ("failed", rx.tooltip(rx.badge("failed", color_scheme="red", high_contrast=True),
                                       content=row.test_message)),
                 rx.badge("not tested", color_scheme="gray", high_contrast=True)),
    )


def _row(row: ConnectionRow) -> rx.Component:
    return rx.table.row(
        cell(rx.link(row.name, href=f"{EDIT_ROUTE}?id={row.id}", weight="medium")),
        cell(rx.badge(row.provider_name, variant="soft")),
        cell(rx.text(row.limits, size="2")),
        cell(rx.text(row.allowed_models, size="2")),
        cell(_credentials_badge(row)),
        actions_cell(
            rx.link(icon_action("pencil", f"Edit {row.name}"), href=f"{EDIT_ROUTE}?id={row.id}"),
            delete_action(ConnectionsState.can_delete, f"Delete {row.name}", title="Delete connection?",
                          message=f"{row.name} will be deleted. Resources that use it must be changed first.",
                          confirm_label="Delete", on_confirm=ConnectionsState.delete(row.id), icon="trash-2"),
        ),
        custom_attrs={"data-row": row.name},
    )


def connections_page() -> rx.Component:
    s = ConnectionsState
    return list_page(
        "AI Connections", "Provider credentials, capacity and allowed models.",
        create_button("New connection", s.can_create, href=EDIT_ROUTE, id="new-connection"), s.list_error,
        data_table(["Name", "Provider", "Capacity", "Allowed models", "Credentials", ""], s.rows, _row,
                   empty="No AI connections in this environment yet. A connection holds a provider's "
                         "credentials (an OpenAI or Anthropic API key, a Bedrock role…).",
                   test_id="connections-table",
                   empty_action=first_item_button("Add a connection", s.can_create, href=EDIT_ROUTE,
                                                  test_id="first-connection")),
        needs=WorkspaceState.has_environment, needs_hint=NO_ENV,
    )


# ---- editor ------------------------------------------------------------------------------------------------


def _section(title: str, description: str, *children: rx.Component) -> rx.Component:
    return rx.card(rx.vstack(
        rx.heading(title, size="3"),
        rx.text(description, size="2", color_scheme="gray") if description else rx.fragment(),
        *children,
        spacing="3", width="100%",
    ), width="100%")


def _provider_select() -> rx.Component:
    return rx.select.root(
        rx.select.trigger(id="connection-provider", width="100%", custom_attrs={"aria-label": "Provider"}),
        rx.select.content(*[rx.select.item(p.name, value=p.type) for p in PROVIDER_OPTIONS]),
        value=ConnectionEditorState.provider, on_change=ConnectionEditorState.set_provider,
        disabled=~ConnectionEditorState.can_save,
    )


def _test_result() -> rx.Component:
    s = ConnectionEditorState
    return rx.match(
        s.test_result,
        ("ok", rx.callout(rx.vstack(
            rx.text("Connection works: ", s.test_models.length(), " model(s) listed."),  # type: ignore[attr-defined]
            rx.flex(rx.foreach(s.test_models, lambda m: rx.badge(m, variant="outline")), wrap="wrap", gap="1"),
            spacing="2"), icon="circle_check", color_scheme="green", width="100%", id="test-result-ok")),
        ("error", rx.callout(rx.text("The provider answered: ", s.test_error), icon="circle_x", color_scheme="red",
                             width="100%", id="test-result-error")),
        rx.fragment(),
    )


def _allowed_models() -> rx.Component:
    s = ConnectionEditorState
    return rx.vstack(
        rx.flex(rx.foreach(s.allowed_models, lambda m: rx.badge(
            m, rx.icon("x", size=12, cursor="pointer", on_click=s.remove_model(m), aria_label=f"Remove {m}"),
            variant="soft", size="2")), wrap="wrap", gap="2"),
        rx.hstack(
            rx.input(value=s.model_draft, on_change=s.set_model_draft, on_key_down=s.add_model_on_enter,
                     placeholder="gpt-4o-mini", id="allowed-model-input", disabled=~s.can_save, width="20em"),
            rx.button("Add", on_click=s.add_model, variant="soft", type="button", id="allowed-model-add",
                      disabled=~s.can_save),
            spacing="2",
        ),
        spacing="2", width="100%",
    )


def _discovered_row(row: DiscoveredRow) -> rx.Component:
    return rx.table.row(cell(mono(row.model)), cell(row.period), cell(row.requests), cell(row.tokens),
                        cell(rx.text(row.updated_at, size="1", color_scheme="gray")))


def connection_editor_page() -> rx.Component:
    s = ConnectionEditorState
    title = rx.cond(s.is_new, "New AI connection", rx.text("AI connection ", s.name))
    actions = rx.hstack(
        rx.link(rx.button("Cancel", variant="soft", color_scheme="gray"), href=LIST_ROUTE),
        rx.button("Save", on_click=rx.call_script(SECRETS_SCRIPT, callback=s.save), disabled=~s.can_save,
                  id="connection-save"),
        spacing="2",
    )
    form = rx.vstack(
        _section("General", "", rx.grid(
            labelled("Name", "connection-name", rx.input(
                value=s.name, on_change=s.set_name, id="connection-name", placeholder="openai-prod",
                disabled=~s.can_save, width="100%", required=True,
                **check_events(s, "connection", "name", on_change=False)),
                s.field_errors.get("name", ""), required=True),
            labelled("Provider", "connection-provider", _provider_select(), required=True),
            columns="2", spacing="4", width="100%"),
            labelled("Description", "connection-description", rx.input(
                value=s.description, on_change=s.set_description, id="connection-description",
                disabled=~s.can_save, width="100%", **check_events(s, "connection", "description", on_change=False)),
                s.field_errors.get("description", "")),
            rx.text(s.provider_description, size="2", color_scheme="gray")),
        _section("Credentials and endpoint",
                 "Secrets are encrypted before they are stored and shown masked; leave a masked value as it is "
                 "to keep the stored secret.",
                 rx.cond(s.credentials != "ok", rx.callout(
                     "The stored credentials cannot be decrypted: enter them again.", icon="triangle_alert",
                     color_scheme="red", size="1"), rx.fragment()),
                 rx.cond(~s.is_new, rx.text("Credentials: ", s.last_test_text, size="2", id="connection-last-test",
                                            color=rx.cond(s.last_test_status == "failed", rx.color("red", 11),
                                                          rx.color("gray", 11))), rx.fragment()),
                 schema_form(s.fields, s.config, on_change=s.set_config, read_only=~s.can_save, remount=s.provider,
                             errors=s.field_errors, check=(s.check_field, s.recheck_field)),
                 rx.hstack(rx.button(rx.icon("plug-zap", size=14), "Test connection",
                                     on_click=rx.call_script(SECRETS_SCRIPT, callback=s.test),
                                     loading=s.testing, disabled=~s.can_test, variant="outline", type="button",
                                     id="connection-test"),
                           rx.text("Lists the provider's models with these credentials.", size="1",
                                   color_scheme="gray"), align="center", spacing="3"),
                 _test_result()),
        _section("Capacity", "Limits on every request through this connection (0 or empty = unlimited).",
                 capacity_editor(s.capacity, prefix="conn-capacity", on_add=s.add_capacity,
                                 on_change=s.set_capacity, on_remove=s.remove_capacity, read_only=~s.can_save)),
        _section("Allowed models", "Model slots naming this connection may only use these models (empty = any).",
                 _allowed_models()),
        rx.cond(~s.is_new, _section(
            "Discovered capacity", "Rate limits the provider reported in its response headers (read-only).",
            data_table(["Model", "Period", "Requests", "Tokens", "Updated"], s.discovered, _discovered_row,
                       empty="Nothing discovered yet: limits appear after the first completions."),
        ), rx.fragment()),
        notice(s.error),
        actions,
        spacing="4", width="100%",
    )
    return console_layout(
        page_header("AI Connections", "", rx.link(rx.button(rx.icon("arrow-left", size=14), "All connections",
                                                            variant="ghost"), href=LIST_ROUTE)),
        rx.heading(title, size="5"),
        requires_selection(WorkspaceState.has_environment, NO_ENV,
                           rx.cond(s.loaded, form, notice(s.error))),
    )


def register(app: rx.App) -> None:
    app.add_page(connections_page, route=LIST_ROUTE, on_load=ConnectionsState.load,
                 title="AI Connections · VM-X")
    app.add_page(connection_editor_page, route=EDIT_ROUTE, on_load=ConnectionEditorState.load,
                 title="AI Connection · VM-X")
    register_nav_item(NavItem("AI Connections", LIST_ROUTE, "cable", order=110, section="AI"))
