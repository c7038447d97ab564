"""Capacity editor: rows of {period, requests, tokens, enabled}, shared by connections and resources.

The row type and its conversion to and from the API's capacity entries live here with the UI, so
both editors read and write capacity the same way.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

import reflex as rx

PERIODS: list[str] = ["minute", "hour", "day", "week", "month", "lifetime"]


@dataclasses.dataclass
class CapacityRow:
    period: str = "minute"
    requests: str = ""
    tokens: str = ""
    enabled: bool = True
    dimension: str = ""  # "source-ip" or "": kept as loaded, not edited here
    usage: str = ""  # live use of the current window, as stored (filled by the owning state)
    percent: int = 0


def number_text(value: Any) -> str:
    """A JSON number as the text an input shows (integers without a trailing .0)."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def parse_number(text: str, *, integer: bool = True) -> int | float | str | None:
    """The number typed in an input; None when empty; the raw text when it is not a number, so the
    API's validation reports it with its path instead of the form dropping it silently."""
    text = text.strip()
    if not text:
        return None
    try:
        return int(text)
    except ValueError:
        pass
    if not integer:
        try:
            return float(text)
        except ValueError:
            pass
    return text


def capacity_rows(entries: list[dict[str, Any]] | None) -> list[CapacityRow]:
    return [CapacityRow(period=str(e.get("period", "minute")), requests=number_text(e.get("requests")),
                        tokens=number_text(e.get("tokens")), enabled=bool(e.get("enabled", True)),
                        dimension=str(e.get("dimension") or "")) for e in entries or []]


def capacity_entries(rows: list[CapacityRow]) -> list[dict[str, Any]]:
    """The API shape, as the API stores it (absent limits left out)."""
    out: list[dict[str, Any]] = []
    for row in rows:
        entry: dict[str, Any] = {"period": row.period}
        for key in ("requests", "tokens"):
            value = parse_number(getattr(row, key))
            if value is not None:
                entry[key] = value
        entry["enabled"] = row.enabled
        if row.dimension:
            entry["dimension"] = row.dimension
        out.append(entry)
    return out


def usage_cell(text: rx.Var, percent: rx.Var, id_: str) -> rx.Component:
    """A bar (used / limit) and its text; nothing for a row not saved yet."""
    return rx.cond(text != "", rx.vstack(
        rx.progress(value=percent, max=100, size="1", width="10em",
                    color_scheme=rx.cond(percent >= 90, "red", "blue")),
        rx.text(text, size="1", color_scheme="gray", id=id_),
        spacing="1"), rx.fragment())


def _row(row: rx.Var, i: rx.Var, prefix: str, on_change: Callable[..., Any],
         on_remove: Callable[..., Any], read_only: rx.Var | bool) -> rx.Component:
    return rx.table.row(
        rx.table.cell(rx.select(PERIODS, value=row.period, on_change=lambda v: on_change(i, "period", v),
                                disabled=read_only, size="2", id=f"{prefix}-{i}-period")),
        rx.table.cell(rx.input(value=row.requests, on_change=lambda v: on_change(i, "requests", v),
                               placeholder="unlimited", type="number", min=0, disabled=read_only,
                               id=f"{prefix}-{i}-requests", width="9em")),
        rx.table.cell(rx.input(value=row.tokens, on_change=lambda v: on_change(i, "tokens", v),
                               placeholder="unlimited", type="number", min=0, disabled=read_only,
                               id=f"{prefix}-{i}-tokens", width="11em")),
        rx.table.cell(rx.switch(checked=row.enabled, on_change=lambda v: on_change(i, "enabled", v),
                                disabled=read_only, id=f"{prefix}-{i}-enabled")),
        rx.table.cell(rx.cond(row.dimension != "", rx.badge("per source IP"), rx.fragment())),
        rx.table.cell(usage_cell(row.usage, row.percent, f"{prefix}-{i}-usage")),
        rx.table.cell(rx.icon_button(rx.icon("trash-2", size=14), on_click=on_remove(i), variant="ghost",
                                     color_scheme="red", disabled=read_only, aria_label="Remove limit",
                                     type="button")),
    )


def capacity_editor(rows: rx.Var, *, prefix: str, on_add: Any, on_change: Callable[..., Any],
                    on_remove: Callable[..., Any], read_only: rx.Var | bool = False) -> rx.Component:
    """`on_change(index, key, value)` and `on_remove(index)` are event handlers of the owning state."""
    return rx.vstack(
        rx.cond(
            rows.length() > 0,  # type: ignore[attr-defined]
            rx.table.root(
                rx.table.header(rx.table.row(
                    rx.table.column_header_cell("Period"), rx.table.column_header_cell("Requests"),
                    rx.table.column_header_cell("Tokens"), rx.table.column_header_cell("Enabled"),
                    rx.table.column_header_cell(""), rx.table.column_header_cell("Used now"),
                    rx.table.column_header_cell(""),
                )),
                rx.table.body(rx.foreach(rows, lambda row, i: _row(row, i, prefix, on_change, on_remove,
                                                                    read_only))),
                variant="surface", size="1", width="100%",
            ),
            rx.text("No limits: 0 or empty means unlimited.", size="2", color_scheme="gray"),
        ),
        rx.button(rx.icon("plus", size=14), "Add limit", on_click=on_add, variant="soft", size="1",
                  disabled=read_only, type="button", id=f"{prefix}-add"),
        spacing="2", width="100%",
    )
