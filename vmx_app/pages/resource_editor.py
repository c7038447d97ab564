"""The AI resource editor page (`/ai-resources/edit?id=…`; no id = new)."""

from __future__ import annotations

import reflex as rx

from vmx_app.components.layout import console_layout, page_header
from vmx_app.components.model_slot import model_datalists
from vmx_app.components.tables import notice, requires_selection
from vmx_app.pages.resource_editor_state import EDIT_ROUTE, LIST_ROUTE, ResourceEditorState
from vmx_app.pages.resource_editor_tabs import (
    api_keys_tab,
    capacity_tab,
    fallback_tab,
    general_tab,
    json_tab,
    routing_tab,
)
from vmx_app.state.workspace import WorkspaceState

S = ResourceEditorState
TABS: list[tuple[str, str]] = [("general", "General"), ("fallback", "Fallback"), ("routing", "Routing"),
                               ("capacity", "Capacity"), ("api-keys", "API keys"), ("json", "JSON")]


def _editor() -> rx.Component:
    contents = {"general": general_tab, "fallback": fallback_tab, "routing": routing_tab,
                "capacity": capacity_tab, "api-keys": api_keys_tab, "json": json_tab}
    return rx.vstack(
        rx.tabs.root(
            rx.tabs.list(*[rx.tabs.trigger(label, value=value, id=f"tab-{value}") for value, label in TABS]),
            *[rx.tabs.content(rx.box(contents[value](), padding_top="16px"), value=value) for value, _ in TABS],
            value=S.tab, on_change=S.set_tab, width="100%",
        ),
        notice(S.error),
        rx.hstack(
            rx.link(rx.button("Cancel", variant="soft", color_scheme="gray"), href=LIST_ROUTE),
            rx.button("Save", on_click=S.save, disabled=~S.can_save, id="resource-save"),
            spacing="2", justify="end", width="100%",
        ),
        model_datalists(S.connections),  # the model fields' suggestions, per connection
        spacing="4", width="100%",
    )


def resource_editor_page() -> rx.Component:
    title = rx.cond(S.is_new, "New AI resource", rx.text("AI resource ", S.name))
    return console_layout(
        page_header("AI Resources", "", rx.link(rx.button(rx.icon("arrow-left", size=14), "All resources",
                                                          variant="ghost"), href=LIST_ROUTE)),
        rx.heading(title, size="5"),
        requires_selection(
            WorkspaceState.has_environment, "Choose a workspace and an environment (top left) first.",
            rx.cond(S.loaded, rx.card(_editor(), width="100%"), notice(S.error)),
        ),
    )


def register(app: rx.App) -> None:
    app.add_page(resource_editor_page, route=EDIT_ROUTE, on_load=S.load, title="AI Resource · VM-X")
