"""Audit log: every completion of the environment, newest first, with filters, a detail drawer
(request, response, routing and fallback events, timings), exports and a live tail."""

from __future__ import annotations

import reflex as rx

from vmx_app.components.layout import console_layout, page_header
from vmx_app.components.nav import NavItem, register_nav_item
from vmx_app.components.tables import cell, data_table, mono, notice, requires_selection
from vmx_app.state.audit import ANY, AuditRow, AuditState, Choice

ROUTE = "/audit"


def _input(name: str, placeholder: str, value: rx.Var[str], width: str = "150px", **props: object) -> rx.Component:
    return rx.input(name=name, placeholder=placeholder, default_value=value, width=width,
                    custom_attrs={"aria-label": placeholder}, **props)


def _pick(name: str, label: str, any_text: str, choices: rx.Var[list[Choice]], value: rx.Var[str]) -> rx.Component:
    """One of the environment's resources, connections or API keys by name (shown when there are any the
    user may list); "Any …" filters nothing."""
    return rx.cond(
        choices.length() > 0,  # type: ignore[attr-defined]
        rx.select.root(
            rx.select.trigger(placeholder=any_text, width="170px", custom_attrs={"aria-label": label}),
            rx.select.content(
                rx.select.item(any_text, value=ANY),
                rx.foreach(choices, lambda c: rx.select.item(c.name, value=c.id)),
            ),
            name=name, default_value=rx.cond(value != "", value, ANY),
        ),
        rx.fragment(),
    )


def _filter_bar() -> rx.Component:
    s = AuditState
    return rx.form(
        rx.hstack(
            _input("correlation", "Correlation id", s.f_correlation, "200px"),
            _pick("resource", "Resource", "Any resource", s.resource_choices, s.f_resource),
            _pick("connection", "Connection", "Any connection", s.connection_choices, s.f_connection),
            _pick("api_key", "API key", "Any API key", s.api_key_choices, s.f_api_key),
            _input("provider", "Provider", s.f_provider, "110px"),
            _input("model", "Model", s.f_model),
            _input("status", "Status (429, 5xx)", s.f_status, "130px"),
            _input("error_text", "Error text", s.f_error_text),
            # The table's times are UTC, and so are these.
            rx.hstack(rx.text("From", size="2"), _input("start", "From (UTC)", s.f_start, "190px",
                                                        type="datetime-local"),
                      rx.text("to", size="2"), _input("end", "To (UTC)", s.f_end, "190px", type="datetime-local"),
                      rx.text("UTC", size="2", color=rx.color("gray", 11)), align="center", spacing="2"),
            rx.hstack(rx.checkbox(name="error_only", default_checked=s.f_error_only,
                                  custom_attrs={"aria-label": "Errors only"}),
                      rx.text("Errors only", size="2"),
                      align="center"),
            rx.button("Apply", type="submit"),
            wrap="wrap", spacing="2", align="center",
        ),
        # Its fields take their values when mounted: a new key mounts them again after a reset.
        on_submit=s.apply_filters, reset_on_submit=False, width="100%", key=s.filter_bar_key.to(str),
    )


def _status_badge(status: rx.Var[int]) -> rx.Component:
    # high_contrast: the soft green badge's text fails WCAG AA contrast (axe) once the log has rows.
    return rx.badge(status, color_scheme=rx.cond(status >= 500, "red", rx.cond(status >= 400, "amber", "green")),
                    high_contrast=True)


def _row(row: AuditRow) -> rx.Component:
    return rx.table.row(
        cell(rx.link(row.time, on_click=AuditState.open_detail(row.id), cursor="pointer")),
        cell(row.resource), cell(row.model), cell(row.provider), cell(_status_badge(row.status)),
        cell(row.tokens), cell(row.cost), cell(row.latency),
        cell(rx.cond(row.correlation_id != "",
                     rx.link(mono(row.correlation_id), on_click=AuditState.by_correlation(row.correlation_id),
                             cursor="pointer", custom_attrs={"data-testid": "correlation-link"}),
                     rx.fragment())),
        cell(rx.cond(row.events > 0,
                     rx.badge(row.events.to_string() + rx.cond(row.events == 1, " event", " events"),
                              color_scheme="violet"),
                     rx.fragment())),
        custom_attrs={"data-row": row.id},
    )


def _block(title: str, text: rx.Var[str], test_id: str) -> rx.Component:
    return rx.vstack(
        rx.text(title, weight="bold", size="2"),
        rx.code_block(text, language="json", wrap_long_lines=True, width="100%",
                      custom_attrs={"data-testid": test_id}),
        width="100%", spacing="1",
    )


def _drawer() -> rx.Component:
    s = AuditState
    return rx.drawer.root(
        rx.drawer.overlay(),
        rx.drawer.portal(rx.drawer.content(
            rx.vstack(
                rx.hstack(rx.heading(s.detail_title, size="4"), rx.spacer(),
                          rx.drawer.close(rx.icon_button(rx.icon("x"), variant="ghost",
                                                         custom_attrs={"aria-label": "Close"})),
                          width="100%"),
                notice(s.detail_error, color_scheme="amber"),
                _block("Events (routing, fallback legs)", s.detail_events, "detail-events"),
                _block("Timings and usage", s.detail_timings, "detail-timings"),
                _block("Request", s.detail_request, "detail-request"),
                _block("Response", s.detail_response, "detail-response"),
                spacing="3", padding="20px", width="100%", overflow_y="auto", height="100%",
            ),
            width="min(760px, 95vw)", height="100%", right="0", top="0", position="fixed",
            background_color=rx.color("gray", 1), custom_attrs={"data-testid": "audit-detail"},
        )),
        direction="right", open=s.detail_open, on_open_change=s.set_detail_open,
    )


def _toolbar() -> rx.Component:
    s = AuditState
    export = s.export_base + "?format="
    return rx.hstack(
        rx.hstack(rx.switch(checked=s.live_tail, on_change=s.set_live_tail,
                            custom_attrs={"aria-label": "Live tail"}), rx.text("Live tail", size="2"), align="center"),
        rx.link(rx.button(rx.icon("download", size=14), "CSV", variant="soft"),
                href=export + "csv&" + s.export_query, is_external=True),
        rx.link(rx.button(rx.icon("download", size=14), "JSON Lines", variant="soft"),
                href=export + "jsonl&" + s.export_query, is_external=True),
        spacing="3", align="center",
    )


def audit_page() -> rx.Component:
    s = AuditState
    table = data_table(["Time (UTC)", "Resource", "Model", "Provider", "Status", "Tokens", "Cost", "Latency",
                        "Correlation id", ""], s.rows, _row, empty="No requests match.", test_id="audit-table")
    body = rx.vstack(
        _filter_bar(), notice(s.list_error), table,
        rx.cond(s.next_cursor != "", rx.button("Load more", variant="soft", on_click=s.more), rx.fragment()),
        spacing="3", width="100%",
    )
    return console_layout(
        page_header("Audit log", "Every completion request of this environment, newest first.", _toolbar()),
        requires_selection(s.has_environment, "Pick an environment (or create one) first.", body),
        _drawer(),
    )


def register(app: rx.App) -> None:
    register_nav_item(NavItem("Audit log", ROUTE, "scroll_text", order=150, section="AI"))
    app.add_page(audit_page, route=ROUTE, on_load=AuditState.load, title="Audit log · VM-X")
