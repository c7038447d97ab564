"""A form field with its label, required mark, hint and its own error right under it.

Errors are plain sentences (`vmx_app.state.field_errors`), shown while the state holds one for the
field, announced by screen readers (role alert) and marked on the input (`aria-invalid`).
`check_events` wires an input to the shared field check (`vmx_app.state.field_check`).
"""

from __future__ import annotations

from typing import Any

import reflex as rx


def field_error(message: rx.Var[str], field_id: str) -> rx.Component:
    return rx.cond(message != "",
                   rx.text(message, size="1", color=rx.color("red", 11), id=f"{field_id}-error",
                           custom_attrs={"role": "alert"}),
                   rx.fragment())


def check_events(state: Any, form: str, name: str, *, on_change: bool = True) -> dict[str, Any]:
    """Props that check the input as field `name` of the state's `form`: on blur, and (unless the input is
    controlled and its setter rechecks) on change while it shows an error. Adds `aria-invalid`."""
    props: dict[str, Any] = {
        "on_blur": lambda value: state.check_field(form, name, value),
        "custom_attrs": {"aria-invalid": rx.cond(state.field_errors.contains(name), "true", "false")},
    }
    if on_change:
        props["on_change"] = lambda value: state.recheck_field(form, name, value)
    return props


def required_mark() -> rx.Component:
    return rx.text.span(" *", color=rx.color("red", 11), title="required", custom_attrs={"aria-hidden": "true"})


def labelled(label: str, field_id: str, control: rx.Component, error: rx.Var[str] | None = None, *,
             required: bool = False, hint: str | rx.Var[str] = "") -> rx.Component:
    """`control` must carry `id=field_id` so the label is bound to it."""
    return rx.vstack(
        # The mark sits outside the label: the field's accessible name stays the label's words.
        rx.hstack(rx.el.label(rx.text(label, size="2", weight="medium"), html_for=field_id),
                  required_mark() if required else rx.fragment(), spacing="0", align="center"),
        control,
        field_error(error, field_id) if error is not None else rx.fragment(),
        rx.text(hint, size="1", color=rx.color("gray", 10)) if isinstance(hint, rx.Var) or hint else rx.fragment(),
        spacing="1", width="100%",
    )


def formatted_text(text: rx.Var[str] | str, **props: object) -> rx.Component:
    """Help text whose `backticked` parts show as code (provider hints, page help), not as backticks."""
    if isinstance(text, str):
        parts = text.split("`")
        return rx.text(*[rx.code(p, size="1") if i % 2 else p for i, p in enumerate(parts) if p], **props)
    return rx.text(rx.foreach(text.split("`"), lambda part, i: rx.cond(  # type: ignore[attr-defined]
        i % 2 == 1, rx.code(part, size="1"), rx.text.span(part))), **props)
