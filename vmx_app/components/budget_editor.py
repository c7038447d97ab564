"""Budget editor: rows of {period, amountUsd, enabled} with the live spend of each budget's current
window beside it (DESIGN §10)."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

import reflex as rx

from vmx_app.components.capacity_editor import number_text, parse_number, usage_cell
from vmx_app.components.fields import check_events, field_error

BUDGET_PERIODS: list[str] = ["day", "week", "month", "lifetime"]


@dataclasses.dataclass
class BudgetRow:
    period: str = "month"
    amount: str = ""
    enabled: bool = True
    usage: str = ""  # live spend of the current window (filled by the owning state)
    percent: int = 0


def budget_rows(entries: list[dict[str, Any]] | None) -> list[BudgetRow]:
    return [BudgetRow(period=str(e.get("period", "month")), amount=number_text(e.get("amountUsd")),
                      enabled=bool(e.get("enabled", True))) for e in entries or []]


def budget_entries(rows: list[BudgetRow]) -> list[dict[str, Any]]:
    """The API shape; an empty amount is sent as is so the API's validation names the field."""
    return [{"period": r.period, "amountUsd": parse_number(r.amount, integer=False), "enabled": r.enabled}
            for r in rows]


def _row(row: rx.Var, i: rx.Var, prefix: str, on_change: Callable[..., Any], on_remove: Callable[..., Any],
         read_only: rx.Var | bool, errors: rx.Var | None, on_check: Callable[..., Any] | None) -> rx.Component:
    error = errors.get("budgets." + i.to(str) + ".amount_usd", "") if errors is not None else None  # type: ignore[attr-defined]
    check = {"on_blur": lambda v: on_check(i, v)} if on_check is not None else {}
    return rx.table.row(
        rx.table.cell(rx.select(BUDGET_PERIODS, value=row.period, on_change=lambda v: on_change(i, "period", v),
                                disabled=read_only, size="2", id=f"{prefix}-{i}-period")),
        rx.table.cell(rx.input(value=row.amount, on_change=lambda v: on_change(i, "amount", v), type="number",
                               min=0, step="any", placeholder="USD", disabled=read_only, id=f"{prefix}-{i}-amount",
                               width="9em", custom_attrs={"aria-label": "Amount (USD)"}, **check),
                      field_error(error, f"{prefix}-{i}-amount") if error is not None else rx.fragment()),
        rx.table.cell(rx.switch(checked=row.enabled, on_change=lambda v: on_change(i, "enabled", v),
                                disabled=read_only, id=f"{prefix}-{i}-enabled")),
        rx.table.cell(usage_cell(row.usage, row.percent, f"{prefix}-{i}-usage")),
        rx.table.cell(rx.icon_button(rx.icon("trash-2", size=14), on_click=on_remove(i), variant="ghost",
                                     color_scheme="red", disabled=read_only, aria_label="Remove budget",
                                     type="button")),
    )


def budget_editor(rows: rx.Var, *, prefix: str, on_add: Any, on_change: Callable[..., Any],
                  on_remove: Callable[..., Any], read_only: rx.Var | bool = False, errors: rx.Var | None = None,
                  on_check: Callable[..., Any] | None = None) -> rx.Component:
    """`errors` (the state's field errors) and `on_check(index, amount)` (a blur check, `BudgetRowsMixin`): each
    row's amount error shows under it."""
    return rx.vstack(
        rx.cond(
            rows.length() > 0,  # type: ignore[attr-defined]
            rx.table.root(
                rx.table.header(rx.table.row(*(rx.table.column_header_cell(h) for h in (
                    "Period", "Amount (USD)", "Enabled", "Spent now", "")))),
                rx.table.body(rx.foreach(rows, lambda row, i: _row(row, i, prefix, on_change, on_remove,
                                                                    read_only, errors, on_check))),
                variant="surface", size="1", width="100%"),
            rx.text("No budget: spend is not limited.", size="2", color_scheme="gray"),
        ),
        rx.button(rx.icon("plus", size=14), "Add budget", on_click=on_add, variant="soft", size="1",
                  disabled=read_only, type="button", id=f"{prefix}-add"),
        spacing="2", width="100%",
    )


def quick_budget_key(period: str) -> str:
    """The field-check key of a quick budget field (`state.budget_rows.QuickBudgetsMixin`)."""
    return f"budgets.{period}.amount_usd"


def budget_fields(prefix: str, day: Any, month: Any, lifetime: Any,
                  check: tuple[Any, str] | None = None) -> rx.Component:
    """Daily, monthly and lifetime budgets as plain form fields (`budget_<period>`) of a dialog's form. With
    `check` (the page state, its form name) each is checked when left and its error shows under it."""

    def field(label: str, period: str, value: Any) -> rx.Component:
        field_id, props = f"{prefix}-budget_{period}", {}
        error: Any = None
        if check is not None:
            props = check_events(check[0], check[1], quick_budget_key(period))
            error = check[0].field_errors.get(quick_budget_key(period), "")
        return rx.vstack(rx.el.label(rx.text(label, size="1", color_scheme="gray"), html_for=field_id),
                         rx.input(name=f"budget_{period}", type="number", min=0, step="any", placeholder="none",
                                  default_value=value, id=field_id, width="100%", **props),
                         field_error(error, field_id) if error is not None else rx.fragment(),
                         spacing="1", width="100%")

    return rx.grid(field("Daily budget (USD)", "day", day), field("Monthly budget (USD)", "month", month),
                   field("Lifetime budget (USD)", "lifetime", lifetime), columns="3", spacing="3",
                   width="100%")
