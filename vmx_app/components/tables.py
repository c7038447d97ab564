"""Tables and small display pieces shared by the console pages."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import reflex as rx


def data_table(columns: list[str], rows: rx.Var[list[Any]], render_row: Callable[[Any], rx.Component],
               *, empty: str = "Nothing here yet.", test_id: str = "",
               empty_action: rx.Component | None = None) -> rx.Component:
    """A table with a header row, one `render_row(row)` per item, or `empty` when there are none, with
    `empty_action` (the button that creates the first one) beside it.
    `render_row` returns an `rx.table.row`; use `cell()` for plain text cells."""
    table = rx.table.root(
        rx.table.header(rx.table.row(*[rx.table.column_header_cell(c) for c in columns])),
        rx.table.body(rx.foreach(rows, render_row)),
        variant="surface", width="100%",
        custom_attrs={"data-testid": test_id} if test_id else {},
    )
    return rx.cond(
        rows.length() > 0,  # type: ignore[attr-defined]
        table,
        rx.card(rx.hstack(rx.text(empty, color=rx.color("gray", 10), size="2"),
                          empty_action if empty_action is not None else rx.fragment(),
                          align="center", justify="between", spacing="3", wrap="wrap", width="100%"),
                width="100%", custom_attrs={"data-testid": f"{test_id}-empty"} if test_id else {}),
    )


def cell(value: Any, **props: Any) -> rx.Component:
    return rx.table.cell(value, **props)


def actions_cell(*buttons: rx.Component) -> rx.Component:
    return rx.table.cell(rx.hstack(*buttons, spacing="2", justify="end"), text_align="right")


def mono(value: Any) -> rx.Component:
    return rx.code(value, variant="ghost", size="2")


def state_badge(value: rx.Var[str]) -> rx.Component:
    return rx.match(
        value,
        ("ACTIVE", rx.badge("Active", color_scheme="green", high_contrast=True)),
        ("INACTIVE", rx.badge("Inactive", color_scheme="gray")),
        ("CHANGE_PASSWORD", rx.badge("Change password", color_scheme="amber", high_contrast=True)),
        rx.badge(value),
    )


def enabled_badge(enabled: rx.Var[bool]) -> rx.Component:
    return rx.cond(enabled, rx.badge("enabled", color_scheme="green", high_contrast=True),
                   rx.badge("disabled", color_scheme="gray"))


def notice(message: rx.Var[str], *, color_scheme: str = "red") -> rx.Component:
    """A callout shown only while `message` is non-empty."""
    return rx.cond(
        message != "",
        rx.callout(message, icon="triangle_alert", color_scheme=color_scheme, size="1", width="100%",
                   custom_attrs={"role": "alert"}),
        rx.fragment(),
    )


def setup_link(label: str, href: str, *, test_id: str = "") -> rx.Component:
    """The button that does the next step of setting up (create the first environment, connection…)."""
    return rx.link(rx.button(rx.icon("arrow_right", size=14), label, size="2"), href=href,
                   custom_attrs={"data-testid": test_id} if test_id else {})


def requires_selection(condition: rx.Var[bool], message: str, *children: rx.Component,
                       action: rx.Component | None = None) -> rx.Component:
    """The page body, or a hint (and the button that fixes it) when there is no workspace/environment
    to show it for. Without `action`, the hint points to the environments page."""
    fix = action if action is not None else setup_link("Go to environments", "/environments")
    return rx.cond(condition, rx.fragment(*children),
                   rx.card(rx.hstack(rx.icon("info", size=16), rx.text(message, size="2"), rx.spacer(), fix,
                                     align="center", wrap="wrap", width="100%"),
                           width="100%"))
