"""The AI resource list (`/ai-resources`); the editor is in resource_editor."""

from __future__ import annotations

import reflex as rx

from vmx_app.components.crud import create_button, delete_action, first_item_button, list_page
from vmx_app.components.forms import icon_action
from vmx_app.components.nav import NavItem, register_nav_item
from vmx_app.components.tables import actions_cell, cell, data_table
from vmx_app.pages import resource_editor
from vmx_app.pages.resource_editor_state import EDIT_ROUTE, LIST_ROUTE
from vmx_app.state.resources import ResourceRow, ResourcesState
from vmx_app.state.workspace import WorkspaceState


def _row(row: ResourceRow) -> rx.Component:
    return rx.table.row(
        cell(rx.vstack(rx.link(row.name, href=f"{EDIT_ROUTE}?id={row.id}", weight="medium"),
                       rx.text(row.description, size="1", color_scheme="gray"), spacing="0")),
        cell(rx.text(row.primary, size="2")),
        cell(rx.text(row.fallback, size="2")),
        cell(rx.text(row.routing, size="2")),
        actions_cell(
            rx.link(icon_action("pencil", f"Edit {row.name}"), href=f"{EDIT_ROUTE}?id={row.id}"),
            delete_action(ResourcesState.can_delete, f"Delete {row.name}", title="Delete resource?",
                          message=f"{row.name} will be deleted; clients calling it get 404.",
                          confirm_label="Delete", on_confirm=ResourcesState.delete(row.id), icon="trash-2"),
        ),
        custom_attrs={"data-row": row.name},
    )


def resources_page() -> rx.Component:
    s = ResourcesState
    return list_page(
        "AI Resources", "The endpoints applications call by name: model, fallback, routing, capacity.",
        create_button("New resource", s.can_create, href=EDIT_ROUTE, id="new-resource"), s.list_error,
        data_table(["Name", "Primary model", "Fallback", "Routing", ""], s.rows, _row,
                   empty="No AI resources in this environment yet. A resource is what your code calls by "
                         "name: a model on a connection, with fallback and routing.", test_id="resources-table",
                   empty_action=first_item_button("Create a resource", s.can_create, href=EDIT_ROUTE,
                                                  test_id="first-resource")),
        needs=WorkspaceState.has_environment,
        needs_hint="Choose a workspace and an environment (top left) to see its resources.",
    )


def register(app: rx.App) -> None:
    app.add_page(resources_page, route=LIST_ROUTE, on_load=ResourcesState.load, title="AI Resources · VM-X")
    resource_editor.register(app)
    register_nav_item(NavItem("AI Resources", LIST_ROUTE, "boxes", order=120, section="AI"))
