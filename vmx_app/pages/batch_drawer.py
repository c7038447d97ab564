"""The batches page's detail drawer: one batch's totals and progress, every item's status, error and tokens
(kept fresh while the batch runs), the results download (JSON Lines through the API, same policy) and
cancel."""

from __future__ import annotations

import reflex as rx

from vmx_app.components.batch_parts import progress_bar, status_badge
from vmx_app.components.forms import confirm_dialog, icon_action
from vmx_app.components.tables import cell, data_table, notice
from vmx_app.state.batch_rows import BatchRow, ItemRow
from vmx_app.state.batches import BatchesState

S = BatchesState


def cancel_action(row: BatchRow, label: str = "") -> rx.Component:
    """Cancel behind a confirmation, while the batch can still start requests and the user may cancel."""
    trigger = (rx.button(rx.icon("circle_stop", size=14), label, color_scheme="red", variant="soft", size="2")
               if label else icon_action("circle_stop", "Cancel batch " + row.short_id, color_scheme="red"))
    return rx.cond(
        S.can_cancel & ((row.status == "PENDING") | (row.status == "RUNNING")),
        confirm_dialog(trigger, title="Cancel batch " + row.short_id + "?",
                       message="No new request of this batch starts. Requests running now finish and their "
                               "results are kept. This cannot be undone.",
                       confirm_label="Cancel batch", on_confirm=S.cancel(row.id)),
        rx.fragment(),
    )


def _item(row: ItemRow) -> rx.Component:
    return rx.table.row(
        cell(row.index), cell(row.custom_id), cell(status_badge(row.status)), cell(row.status_code),
        cell(row.tokens), cell(row.cost),
        cell(rx.text(row.error, size="1", color=rx.color("red", 11), max_width="280px")),
        custom_attrs={"data-item": row.index, "data-status": row.status},
    )


def _fact(label: str, value: rx.Var | str, test_id: str) -> rx.Component:
    return rx.vstack(rx.text(label, size="1", color=rx.color("gray", 11)),
                     rx.text(value, size="3", weight="medium", custom_attrs={"data-testid": test_id}),
                     spacing="0", min_width="80px")


def _download() -> rx.Component:
    # `download` keeps the browser on the page; the API route checks `completion-batch:get` as for any caller.
    return rx.button(
        rx.el.a(rx.icon("download", size=14), "Download results", href=S.download_url,
                download="batch-" + S.detail.short_id + ".jsonl", id="batch-download",
                reload_document=True),  # `rx.el.a` is a router link: let the browser fetch the file itself
        as_child=True, variant="soft",
    )


def _actions() -> rx.Component:
    return rx.hstack(_download(), cancel_action(S.detail, "Cancel batch"), spacing="3", wrap="wrap")


def batch_drawer() -> rx.Component:
    d = S.detail
    running = rx.cond(d.running > 0, rx.text(d.running.to_string() + " requests still finishing", size="2"),
                      rx.fragment())
    return rx.drawer.root(
        rx.drawer.overlay(),
        rx.drawer.portal(rx.drawer.content(
            rx.vstack(
                rx.hstack(rx.drawer.title("Batch " + d.short_id, size="4"), status_badge(d.status), rx.spacer(),
                          rx.drawer.close(rx.icon_button(rx.icon("x"), variant="ghost",
                                                         custom_attrs={"aria-label": "Close"})),
                          width="100%", align="center", spacing="3"),
                rx.drawer.description("Created " + d.created, size="2", color=rx.color("gray", 11)),
                notice(S.detail_error, color_scheme="amber"),
                progress_bar(d.percent, "Progress of batch " + d.short_id, width="100%"),
                rx.hstack(_fact("Finished", d.progress, "detail-progress"),
                          _fact("Completed", d.completed, "detail-completed"),
                          _fact("Failed", d.failed, "detail-failed"),
                          _fact("Cancelled", d.cancelled, "detail-cancelled"),
                          _fact("Tokens", d.tokens, "detail-tokens"), _fact("Cost", d.cost, "detail-cost"),
                          spacing="5", wrap="wrap"),
                running,
                _actions(),
                rx.cond(S.items_note != "", rx.text(S.items_note, size="1", color=rx.color("gray", 11)),
                        rx.fragment()),
                rx.box(data_table(["#", "Custom id", "Status", "Code", "Tokens", "Cost", "Error"], S.items, _item,
                                  empty="No items.", test_id="batch-items"), width="100%", overflow_x="auto",
                       # a region that may scroll sideways is reachable from the keyboard (axe)
                       custom_attrs={"tabIndex": 0, "role": "region", "aria-label": "Items of the batch"}),
                spacing="3", padding="20px", width="100%", overflow_y="auto", height="100%",
            ),
            # left="auto": the drawer's default style pins both sides; this one opens from the right.
            width="min(860px, 95vw)", height="100%", right="0", left="auto", top="0", position="fixed",
            background_color=rx.color("gray", 1), custom_attrs={"data-testid": "batch-detail"},
        )),
        direction="right", open=S.detail_open, on_open_change=S.set_detail_open,
    )
