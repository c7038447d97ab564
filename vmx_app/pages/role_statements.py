"""The role editor's policy views: statement cards (effect, actions from the catalog, resource patterns
with wildcards) and the JSON text, bound to a state with `RoleStatementsMixin`."""

from __future__ import annotations

from typing import Any

import reflex as rx

from vmx_app.components.forms import icon_action
from vmx_app.state.role_statements import ACTION_CHOICES, RESOURCE_CHOICES, StatementRow


def _chips(state: Any, row: StatementRow, i: rx.Var[int], kind: str, read_only: rx.Var[bool]) -> rx.Component:
    values = row.actions if kind == "action" else row.resources
    return rx.flex(
        rx.foreach(values, lambda v, j: rx.badge(
            rx.code(v, variant="ghost", size="1"),
            rx.cond(read_only, rx.fragment(),
                    rx.icon_button(rx.icon("x", size=10), size="1", variant="ghost", type="button",
                                   on_click=state.remove_pattern(i, kind, j),
                                   custom_attrs={"aria-label": "Remove " + v})),
            variant="surface", color_scheme="gray", size="2")),
        wrap="wrap", gap="2",
    )


def _adder(state: Any, row: StatementRow, i: rx.Var[int], kind: str, read_only: rx.Var[bool]) -> rx.Component:
    label = "action" if kind == "action" else "resource pattern"
    field_id = f"stmt-{kind}-" + i.to_string()
    return rx.cond(read_only, rx.fragment(), rx.hstack(
        rx.input(value=row.action_draft if kind == "action" else row.resource_draft, id=field_id,
                 on_change=lambda v: state.set_draft(i, kind, v), placeholder=f"Add an {label}" if kind == "action"
                 else "Add a resource pattern", size="1", width="100%",
                 custom_attrs={"list": f"role-{kind}-choices", "aria-label": f"New {label}", "autoComplete": "off"}),
        rx.button("Add", size="1", variant="soft", type="button", on_click=state.add_pattern(i, kind),
                  id=f"stmt-{kind}-add-" + i.to_string()),
        width="100%", spacing="2",
    ))


def _statement(state: Any, row: StatementRow, i: rx.Var[int], read_only: rx.Var[bool]) -> rx.Component:
    return rx.card(rx.vstack(
        rx.hstack(
            rx.text("Statement ", (i + 1).to_string(), size="2", weight="bold"),
            rx.select.root(
                rx.select.trigger(custom_attrs={"aria-label": "Effect of statement " + (i + 1).to_string()},
                                  id="stmt-effect-" + i.to_string()),
                rx.select.content(rx.select.item("Allow", value="allow"), rx.select.item("Deny", value="deny")),
                value=row.effect, on_change=lambda v: state.set_effect(i, v), disabled=read_only, size="1"),
            rx.spacer(),
            rx.cond(read_only, rx.fragment(),
                    icon_action("trash_2", "Remove statement " + (i + 1).to_string(), color_scheme="red",
                                on_click=state.remove_statement(i), type="button")),
            align="center", width="100%",
        ),
        rx.text("Actions", size="1", weight="medium"),
        _chips(state, row, i, "action", read_only),
        _adder(state, row, i, "action", read_only),
        rx.text("Resources", size="1", weight="medium"),
        _chips(state, row, i, "resource", read_only),
        _adder(state, row, i, "resource", read_only),
        spacing="2", width="100%",
    ), width="100%", custom_attrs={"data-statement": i.to_string()})


def policy_editor(state: Any, read_only: rx.Var[bool]) -> rx.Component:
    """Tabs: the statements, and the same policy as JSON."""
    return rx.vstack(
        rx.tabs.root(
            rx.tabs.list(rx.tabs.trigger("Statements", value="statements", id="policy-tab-statements"),
                         rx.tabs.trigger("JSON", value="json", id="policy-tab-json")),
            rx.tabs.content(rx.vstack(
                rx.foreach(state.statements, lambda row, i: _statement(state, row, i, read_only)),
                rx.cond(read_only, rx.fragment(),
                        rx.button(rx.icon("plus", size=14), "Add statement", size="1", variant="soft",
                                  type="button", on_click=state.add_statement, id="policy-add-statement")),
                spacing="2", width="100%", padding_top="8px", max_height="46vh", overflow_y="auto",
            ), value="statements"),
            rx.tabs.content(rx.text_area(
                value=state.policy_text, on_change=state.set_policy_text, rows="12", width="100%",
                spell_check=False, read_only=read_only, id="role-policy",
                font_family="var(--code-font-family, monospace)", font_size="12px",
                custom_attrs={"aria-label": "Policy (JSON)"}), value="json", padding_top="8px"),
            value=state.policy_view, on_change=state.set_policy_view, width="100%",
        ),
        rx.cond(state.policy_error != "",
                rx.text(state.policy_error, size="1", color=rx.color("red", 11), id="role-policy-error",
                        custom_attrs={"role": "alert"}),
                rx.fragment()),
        rx.text("* and ? match within the whole string; a deny in any role wins; no match denies.", size="1",
                color=rx.color("gray", 11)),
        rx.el.datalist(*[rx.el.option(value=a) for a in ACTION_CHOICES], id="role-action-choices"),
        rx.el.datalist(*[rx.el.option(value=r) for r in RESOURCE_CHOICES], id="role-resource-choices"),
        spacing="2", width="100%",
    )
