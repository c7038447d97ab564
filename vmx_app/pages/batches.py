"""Batches (`/batches`, issue 14): many requests run in the background at a lower priority. The list shows
each batch's progress; a batch is created from a JSON Lines upload; the drawer shows every item's outcome,
downloads the results and cancels."""

from __future__ import annotations

import reflex as rx

from vmx_app.components.batch_parts import progress_cell, status_badge
from vmx_app.components.crud import create_button, first_item_button
from vmx_app.components.forms import icon_action
from vmx_app.components.layout import console_layout, page_header
from vmx_app.components.nav import NavItem, register_nav_item
from vmx_app.components.tables import (
    actions_cell,
    cell,
    data_table,
    mono,
    notice,
    requires_selection,
    setup_link,
)
from vmx_app.pages.batch_drawer import batch_drawer, cancel_action
from vmx_app.state.batch_rows import BatchRow
from vmx_app.state.batches import UPLOAD_ID, BatchesState, endpoint_choices

ROUTE = "/batches"
S = BatchesState
NO_ENV = "Choose a workspace and an environment (top left) to see its batches."
EXAMPLE = '{"customId": "q-1", "resourceName": "chat", "request": {"messages": [{"role": "user", "content": "Hi"}]}}'


def _row(row: BatchRow) -> rx.Component:
    return rx.table.row(
        cell(rx.button(mono(row.short_id), variant="ghost", size="1", on_click=S.open_detail(row.id),
                       custom_attrs={"aria-label": "Open batch " + row.short_id})),
        cell(rx.text(row.created, size="2", white_space="nowrap")),
        cell(status_badge(row.status)),
        cell(progress_cell(row)),
        cell(row.completed), cell(row.failed), cell(row.tokens), cell(row.cost),
        actions_cell(icon_action("list", "Details of batch " + row.short_id, on_click=S.open_detail(row.id)),
                     cancel_action(row)),
        custom_attrs={"data-batch": row.id, "data-status": row.status},
    )


def _select(field_id: str, label: str, value: rx.Var[str], on_change: rx.EventHandler, placeholder: str,
            items: rx.Component) -> rx.Component:
    return rx.vstack(
        rx.el.label(rx.text(label, size="2", weight="medium"), html_for=field_id),
        rx.select.root(rx.select.trigger(id=field_id, placeholder=placeholder, width="100%",
                                         custom_attrs={"aria-label": label}),
                       rx.select.content(items), value=value, on_change=on_change),
        spacing="1", width="100%",
    )


def _file_zone() -> rx.Component:
    """The dropzone inside a label: the label names its (visually hidden) file input and a click on it opens
    the file chooser; the zone itself takes Enter/Space from the keyboard."""
    chosen = rx.selected_files(UPLOAD_ID)
    return rx.el.label(
        rx.text("JSON Lines file", size="2", weight="medium"),
        rx.upload(
            rx.vstack(
                rx.icon("file_up", size=20),
                rx.cond(chosen.length() > 0,  # type: ignore[attr-defined]
                        rx.text(chosen.join(", "), size="2", weight="medium",  # type: ignore[attr-defined]
                                custom_attrs={"data-testid": "batch-file-name"}),
                        rx.text("Drop a .jsonl file here, or click (or press Enter) to choose one", size="2")),
                align="center", spacing="1",
            ),
            id=UPLOAD_ID, multiple=False, max_files=1, no_click=True,
            accept={"application/jsonl": [".jsonl"], "application/x-ndjson": [".jsonl", ".ndjson"],
                    "text/plain": [".jsonl", ".ndjson", ".txt"]},
            border=f"1px dashed {rx.color('gray', 8)}", border_radius="8px", padding="16px", width="100%",
            cursor="pointer", margin_top="4px", _focus_visible={"outline": f"2px solid {rx.color('accent', 8)}"},
        ),
        display="block", width="100%",
    )


def _create_dialog() -> rx.Component:
    resources = rx.foreach(S.resource_options, lambda o: rx.select.item(o[1], value=o[0]))
    endpoints = [rx.select.item(label, value=value) for value, label in endpoint_choices()]
    return rx.dialog.root(
        rx.dialog.content(
            rx.dialog.title("New batch"),
            rx.dialog.description(
                "One request on each line. A line is a request body (it runs on the resource and endpoint "
                "below), or an item that names its own resource:", size="2"),
            rx.el.pre(rx.el.code(EXAMPLE), font_size="12px", white_space="pre-wrap", word_break="break-all",
                      padding="8px", border_radius="6px", background=rx.color("gray", 3), margin="0"),
            rx.vstack(
                _file_zone(),
                rx.hstack(
                    _select("batch-resource", "Resource for request bodies", S.create_resource,
                            S.set_create_resource, "Choose a resource", resources),
                    _select("batch-endpoint", "Endpoint", S.create_endpoint, S.set_create_endpoint,
                            "Endpoint", rx.fragment(*endpoints)),
                    spacing="3", width="100%", wrap="wrap",
                ),
                rx.cond(S.resource_ids.length() == 0,  # type: ignore[attr-defined]
                        rx.hstack(rx.text("This environment has no AI resource for the requests to run on yet.",
                                          size="2"),
                                  setup_link("Create a resource", "/ai-resources"), align="center", wrap="wrap"),
                        rx.fragment()),
                notice(S.create_error),
                rx.hstack(
                    rx.dialog.close(rx.button("Cancel", variant="soft", color_scheme="gray", type="button")),
                    rx.button(rx.icon("play", size=14), "Create batch", id="batch-create",
                              on_click=S.create(rx.upload_files(upload_id=UPLOAD_ID))),
                    justify="end", spacing="3", width="100%",
                ),
                spacing="3", width="100%", padding_top="12px",
            ),
            max_width="640px",
        ),
        open=S.create_open, on_open_change=S.set_create_open,
    )


def batches_page() -> rx.Component:
    new = create_button("New batch", S.can_create, id="new-batch", on_click=S.set_create_open(True))
    refresh = rx.button(rx.icon("refresh_cw", size=14), "Refresh", variant="soft", color_scheme="gray",
                        on_click=S.refresh, id="batches-refresh")
    table = data_table(
        ["Batch", "Created", "Status", "Progress", "Completed", "Failed", "Tokens", "Cost", ""], S.rows, _row,
        empty="No batches yet. Upload a JSON Lines file with one request on each line: it runs in the background "
              "and you can download every answer when it is done.",
        test_id="batches-table",
        empty_action=first_item_button("Create a batch", S.can_create, on_click=S.set_create_open(True),
                                       test_id="first-batch"))
    body = rx.vstack(notice(S.list_error), rx.cond(S.loaded, table, rx.fragment()), _create_dialog(),
                     batch_drawer(), spacing="3", width="100%")
    return console_layout(
        page_header("Batches", "Many requests at once, run in the background at a lower priority than live "
                               "traffic.", refresh, new),
        rx.box(requires_selection(S.has_environment, NO_ENV, body), width="100%", on_unmount=S.stop_polling),
    )


def register(app: rx.App) -> None:
    app.add_page(batches_page, route=ROUTE, on_load=S.load, title="Batches · VM-X")
    register_nav_item(NavItem("Batches", ROUTE, "list_checks", order=127, section="AI"))
