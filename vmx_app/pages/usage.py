"""Usage dashboard: totals, requests/errors, tokens, cost, latency percentiles, time to first token and
tokens per second over time, and a breakdown by resource, model, connection or API key."""

from __future__ import annotations

import reflex as rx

from vmx_app.components.layout import console_layout, page_header
from vmx_app.components.nav import NavItem, register_nav_item
from vmx_app.components.tables import cell, data_table, notice, requires_selection
from vmx_app.state.usage import BREAKDOWNS, RANGES, BreakdownRow, UsageState

ROUTE = "/usage"
GRANULARITIES = ["minute", "hour", "day", "week", "month"]


def _select(name: str, options: list[str], value: rx.Var[str], label: str) -> rx.Component:
    return rx.vstack(rx.text(label, size="1", color=rx.color("gray", 11)),
                     rx.select(options, name=name, default_value=value, custom_attrs={"aria-label": label}),
                     spacing="1")


def _controls() -> rx.Component:
    s = UsageState
    return rx.form(
        rx.hstack(
            _select("range", list(RANGES), s.range_key, "Range"),
            _select("granularity", GRANULARITIES, s.granularity, "Granularity"),
            rx.vstack(rx.text("Time zone", size="1", color=rx.color("gray", 11)),
                      rx.input(name="time_zone", default_value=s.time_zone, width="180px",
                               custom_attrs={"aria-label": "Time zone"}), spacing="1"),
            rx.vstack(rx.text("Provider", size="1", color=rx.color("gray", 11)),
                      rx.input(name="provider", default_value=s.f_provider, width="120px",
                               custom_attrs={"aria-label": "Provider"}), spacing="1"),
            rx.vstack(rx.text("Model", size="1", color=rx.color("gray", 11)),
                      rx.input(name="model", default_value=s.f_model, width="160px",
                               custom_attrs={"aria-label": "Model"}), spacing="1"),
            _select("breakdown", list(BREAKDOWNS), s.breakdown_by, "Breakdown by"),
            rx.button("Apply", type="submit"),
            wrap="wrap", spacing="3", align="end",
        ),
        on_submit=s.apply, reset_on_submit=False, width="100%",
    )


def _stat(label: str, value: rx.Var, test_id: str) -> rx.Component:
    return rx.card(rx.vstack(rx.text(label, size="1", color=rx.color("gray", 11)),
                             rx.heading(value, size="5", custom_attrs={"data-testid": test_id}), spacing="1"),
                   min_width="150px")


def _totals() -> rx.Component:
    s = UsageState
    return rx.hstack(
        _stat("Requests", s.total_requests, "total-requests"), _stat("Errors", s.total_errors, "total-errors"),
        _stat("Tokens", s.total_tokens, "total-tokens"), _stat("Cost", s.total_cost, "total-cost"),
        _stat("Latency p95", s.p95_latency, "total-p95"), wrap="wrap", spacing="3", width="100%",
    )


def _row(row: BreakdownRow) -> rx.Component:
    return rx.table.row(cell(row.name), cell(row.requests), cell(row.errors), cell(row.tokens), cell(row.cost),
                        cell(row.p95))


def usage_page() -> rx.Component:
    s = UsageState
    charts = rx.grid(
        *[rx.card(rx.plotly(data=fig, width="100%")) for fig in
          (s.fig_requests, s.fig_tokens, s.fig_cost, s.fig_latency, s.fig_ttft, s.fig_tps)],
        columns="2", spacing="3", width="100%",
    )
    body = rx.vstack(
        _controls(), notice(s.error), _totals(), charts,
        data_table(["Name", "Requests", "Errors", "Tokens", "Cost", "Latency p95"], s.breakdown, _row,
                   empty="No requests in this range.", test_id="usage-breakdown"),
        spacing="4", width="100%",
    )
    return console_layout(
        page_header("Usage", "Requests, tokens, cost and latency of this environment, from its audit trail."),
        requires_selection(s.has_environment, "Pick an environment (or create one) first.", body),
    )


def register(app: rx.App) -> None:
    register_nav_item(NavItem("Usage", ROUTE, "chart_line", order=160, section="AI"))
    app.add_page(usage_page, route=ROUTE, on_load=UsageState.load, title="Usage · VM-X")
