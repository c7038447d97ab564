"""`/connect`: how code reaches the current environment: the gateway URLs of the three endpoints, the
workspace and environment ids, and ready-to-run snippets for a chosen AI resource."""

from __future__ import annotations

import reflex as rx

from vmx_app.components.fields import formatted_text
from vmx_app.components.layout import console_layout, page_header
from vmx_app.components.nav import NavItem, register_nav_item
from vmx_app.components.snippets import copy_row, snippet_tabs
from vmx_app.components.tables import requires_selection
from vmx_app.state.connect import PLACEHOLDER_RESOURCE, ConnectState

ROUTE = "/connect"


def _ids_card() -> rx.Component:
    s = ConnectState
    return rx.card(rx.vstack(
        rx.heading("Endpoints", size="3"),
        formatted_text("Clients send an API key of this environment as `Authorization: Bearer <key>` "
                       "(or `x-api-key`) and name an AI resource as the model.", size="2",
                       color=rx.color("gray", 11)),
        copy_row("Workspace id", s.workspace_id, hint=s.workspace_name, test_id="connect-workspace-id"),
        copy_row("Environment id", s.environment_id, hint=s.environment_name, test_id="connect-environment-id"),
        rx.separator(width="100%"),
        rx.foreach(s.urls, lambda u: copy_row(u.label, u.url, hint=u.hint, test_id="connect-url-" + u.label)),
        spacing="3", width="100%",
    ), width="100%")


def _resource_picker() -> rx.Component:
    s = ConnectState
    return rx.cond(
        s.resources.length() > 0,  # type: ignore[attr-defined]
        rx.hstack(
            rx.el.label(rx.text("AI resource", size="2", weight="medium"), html_for="connect-resource"),
            rx.select.root(
                rx.select.trigger(id="connect-resource", min_width="200px",
                                  custom_attrs={"aria-label": "AI resource"}),
                rx.select.content(rx.foreach(s.resources, lambda r: rx.select.item(r, value=r))),
                value=s.resource, on_change=s.set_resource,
            ),
            align="center", spacing="3",
        ),
        rx.callout(
            rx.hstack(rx.text("No AI resource yet: the snippets use `" + PLACEHOLDER_RESOURCE + "`."),
                      rx.link(rx.button("Create an AI resource", size="1"), href="/ai-resources/edit"),
                      align="center", spacing="3", wrap="wrap"),
            icon="info", size="1", width="100%",
        ),
    )


def _snippets_card() -> rx.Component:
    return rx.card(rx.vstack(
        rx.heading("Snippets", size="3"),
        rx.text("Ready to run: they read the key from the VMX_API_KEY environment variable "
                "(create one on the API Keys page).", size="2", color=rx.color("gray", 11)),
        _resource_picker(),
        snippet_tabs(ConnectState.code, prefix="snippet"),
        spacing="3", width="100%",
    ), width="100%")


def connect_page() -> rx.Component:
    body = rx.vstack(_ids_card(), _snippets_card(), spacing="4", width="100%")
    return console_layout(
        page_header("Connect", "Call this environment's AI resources from your own code.",
                    rx.link(rx.button(rx.icon("key_round", size=16), "API keys", variant="soft"), href="/api-keys")),
        requires_selection(ConnectState.has_environment, "Pick an environment (or create one) first.", body),
    )


def register(app: rx.App) -> None:
    register_nav_item(NavItem("Connect", ROUTE, "plug", order=125, section="AI"))
    app.add_page(connect_page, route=ROUTE, on_load=ConnectState.load, title="Connect · VM-X")
