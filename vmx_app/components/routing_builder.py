"""Routing condition builder: per condition a description, simple clauses (field, operator, value, window)
or an advanced CEL expression, an optional block action, and the `then` model slot with its traffic."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import reflex as rx

from vmx_app.components.model_slot import model_slot
from vmx_app.gateway.config import RoutingField, RoutingOperator

# "metadata" stands for `metadata.<key>`: the clause row carries the key in its own input.
ROUTING_FIELDS: list[str] = [*RoutingField.__args__, "metadata"]  # type: ignore[attr-defined]
OPERATORS: list[str] = list(RoutingOperator.__args__)  # type: ignore[attr-defined]
EXPRESSION_HINT = ("CEL, e.g. requestTokens < 100 && errorRate(10, 'any') < 5. Variables: requestTokens, "
                   "messagesCount, toolsCount, hasTools, stream, firstMessage, lastMessage, allMessagesContent, "
                   "apiKeyName, metadata.<key>; errorRate(windowMinutes, status).")


@dataclass(frozen=True)
class RoutingHandlers:
    """Event handlers of the owning state; indices are the condition (ci) and clause (ki) positions."""

    set_condition: Any  # (ci, key, value)
    set_clause: Any  # (ci, ki, key, value)
    set_then: Any  # (ci, key, value)
    set_then_connection: Any  # (ci, connection_id)
    add_clause: Any  # (ci)
    remove_clause: Any  # (ci, ki)
    remove_condition: Any  # (ci)
    move_condition_up: Any  # (ci)
    check_field: Any = None  # (form, error key, value): the shared field check, form "then"


def _clause(clause: rx.Var, ci: rx.Var, ki: rx.Var, h: RoutingHandlers, read_only: Any) -> rx.Component:
    prefix = f"cond-{ci}-if-{ki}"
    return rx.hstack(
        rx.select(ROUTING_FIELDS, value=clause.field, on_change=lambda v: h.set_clause(ci, ki, "field", v),
                  disabled=read_only, id=f"{prefix}-field"),
        rx.cond(clause.field == "metadata",
                rx.input(value=clause.metadata_key, on_change=lambda v: h.set_clause(ci, ki, "metadata_key", v),
                         placeholder="metadata key", id=f"{prefix}-metadata-key", disabled=read_only, width="9em"),
                rx.fragment()),
        rx.select(OPERATORS, value=clause.operator, on_change=lambda v: h.set_clause(ci, ki, "operator", v),
                  disabled=read_only, id=f"{prefix}-operator"),
        rx.cond(clause.operator != "exists",
                rx.input(value=clause.value, on_change=lambda v: h.set_clause(ci, ki, "value", v),
                         placeholder=rx.cond((clause.operator == "in") | (clause.operator == "notIn"),
                                             "a, b, c", "value"),
                         id=f"{prefix}-value", disabled=read_only, width="12em"),
                rx.fragment()),
        rx.cond(clause.field == "errorRate",
                rx.hstack(rx.input(value=clause.window, on_change=lambda v: h.set_clause(ci, ki, "window", v),
                                   type="number", min=1, max=180, placeholder="10", id=f"{prefix}-window",
                                   disabled=read_only, width="6em"),
                          rx.text("window (min)", size="1", color_scheme="gray"), align="center", spacing="1"),
                rx.fragment()),
        rx.icon_button(rx.icon("x", size=14), on_click=h.remove_clause(ci, ki), variant="ghost", color_scheme="red",
                       type="button", aria_label="Remove clause", disabled=read_only),
        spacing="2", align="center", wrap="wrap",
    )


def _condition(cond: rx.Var, ci: rx.Var, connections: rx.Var, h: RoutingHandlers, read_only: Any,
               errors: rx.Var | None) -> rx.Component:
    prefix = f"cond-{ci}"
    simple = rx.vstack(
        rx.text("All of these must hold:", size="2", color_scheme="gray"),
        rx.foreach(cond.clauses, lambda clause, ki: _clause(clause, ci, ki, h, read_only)),
        rx.button(rx.icon("plus", size=14), "Add clause", on_click=h.add_clause(ci), variant="soft", size="1",
                  type="button", id=f"{prefix}-add-clause", disabled=read_only),
        spacing="2", width="100%",
    )
    advanced = rx.vstack(
        rx.text_area(value=cond.expression, on_change=lambda v: h.set_condition(ci, "expression", v),
                     placeholder="requestTokens < 100 && errorRate(10, 'any') < 5", id=f"{prefix}-expression",
                     font_family="monospace", rows="3", width="100%", disabled=read_only),
        rx.text(EXPRESSION_HINT, size="1", color_scheme="gray"),
        spacing="1", width="100%",
    )
    return rx.card(rx.vstack(
        rx.hstack(
            rx.badge(rx.text("#", ci + 1), variant="outline"),
            rx.input(value=cond.description, on_change=lambda v: h.set_condition(ci, "description", v),
                     placeholder="Description", id=f"{prefix}-description", disabled=read_only, flex="1"),
            rx.hstack(rx.text("Enabled", size="2"),
                      rx.switch(checked=cond.enabled, on_change=lambda v: h.set_condition(ci, "enabled", v),
                                id=f"{prefix}-enabled", disabled=read_only), align="center", spacing="1"),
            rx.hstack(rx.text("Advanced", size="2"),
                      rx.switch(checked=cond.advanced, on_change=lambda v: h.set_condition(ci, "advanced", v),
                                id=f"{prefix}-advanced", disabled=read_only), align="center", spacing="1"),
            rx.icon_button(rx.icon("arrow-up", size=14), on_click=h.move_condition_up(ci), variant="ghost",
                           type="button", aria_label="Move condition up", disabled=read_only),
            rx.icon_button(rx.icon("trash-2", size=14), on_click=h.remove_condition(ci), variant="ghost",
                           color_scheme="red", type="button", aria_label="Remove condition",
                           id=f"{prefix}-remove", disabled=read_only),
            spacing="3", align="center", width="100%",
        ),
        rx.cond(cond.advanced, advanced, simple),
        rx.separator(),
        rx.hstack(rx.text("Block matching requests (400)", size="2"),
                  rx.switch(checked=cond.block, on_change=lambda v: h.set_condition(ci, "block", v),
                            id=f"{prefix}-block", color_scheme="red", disabled=read_only),
                  align="center", spacing="2"),
        rx.cond(
            cond.block,
            rx.fragment(),
            rx.vstack(
                rx.text("Then route to", size="2", weight="medium"),
                model_slot(cond.then, prefix=f"{prefix}-then", connections=connections,
                           on_field=lambda key, value: h.set_then(ci, key, value),
                           on_connection=lambda v: h.set_then_connection(ci, v), traffic=True, read_only=read_only,
                           errors=errors, key="then." + ci.to(str) + ".",
                           on_check=(lambda k, v: h.check_field("then", k, v)) if h.check_field else None),
                spacing="1", width="100%",
            ),
        ),
        spacing="3", width="100%",
    ), width="100%")


def routing_builder(conditions: rx.Var, *, connections: rx.Var, handlers: RoutingHandlers, on_add: Any,
                    read_only: Any = False, errors: rx.Var | None = None) -> rx.Component:
    """`errors` (the state's field errors) with `handlers.check_field`: each `then` slot's fields are checked
    when left, keyed `then.<ci>.<field>`."""
    return rx.vstack(
        rx.text("Conditions are tried in order; the first match wins. A match whose traffic draw fails "
                "passes to the next condition.", size="2", color_scheme="gray"),
        rx.foreach(conditions, lambda cond, ci: _condition(cond, ci, connections, handlers, read_only, errors)),
        rx.button(rx.icon("plus", size=14), "Add condition", on_click=on_add, variant="soft", type="button",
                  id="routing-add-condition", disabled=read_only),
        spacing="3", width="100%",
    )
