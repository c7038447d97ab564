"""Form fields and dialogs. Stateless: the caller passes the state vars and event handlers.

Create/edit dialogs are controlled (`open` + `on_open_change` in the page state), so a handler can
keep the dialog open and show its error in the dialog; deletes use an uncontrolled confirmation.
"""

from __future__ import annotations

from typing import Any

import reflex as rx

from vmx_app.components.fields import check_events, labelled
from vmx_app.components.tables import notice


def field(label: str, control: rx.Component, *, html_for: str, hint: str = "") -> rx.Component:
    return rx.vstack(
        rx.el.label(rx.text(label, size="2", weight="medium"), html_for=html_for),
        control,
        rx.text(hint, size="1", color=rx.color("gray", 10)) if hint else rx.fragment(),
        spacing="1", width="100%",
    )


def text_field(label: str, name: str, *, default_value: Any = "", placeholder: str = "", type: str = "text",
               required: bool = False, hint: str = "", field_id: str = "",
               error: rx.Var[str] | None = None, check: tuple[Any, str] | None = None,
               key: str = "") -> rx.Component:
    """An uncontrolled input of a form. With `check` (the page state, its form name) it is checked as field
    `key` (default `name`) of that form on blur and as it changes, and the state's error for it shows right
    under it; `error` alone shows an error the submit found. `required` marks the label."""
    field_id = field_id or f"field-{name}"
    props: dict[str, Any] = {}
    if check is not None:
        state, form = check
        props = check_events(state, form, key or name)
        error = state.field_errors.get(key or name, "")
    control = rx.input(name=name, id=field_id, default_value=default_value, placeholder=placeholder,
                       type=type, required=required, width="100%", **props)
    return labelled(label, field_id, control, error, required=required, hint=hint)


def select_field(label: str, name: str, items: list[str] | rx.Var[list[str]], *, default_value: Any,
                 field_id: str = "", hint: str = "") -> rx.Component:
    field_id = field_id or f"field-{name}"
    return field(label, rx.select(items, name=name, default_value=default_value, width="100%",
                                  id=field_id),
                 html_for=field_id, hint=hint)


def textarea_field(label: str, name: str, *, default_value: Any = "", rows: str = "12", hint: str = "",
                   field_id: str = "", monospace: bool = False) -> rx.Component:
    field_id = field_id or f"field-{name}"
    style = {"font_family": "var(--code-font-family, monospace)", "font_size": "12px"} if monospace else {}
    return field(label, rx.text_area(name=name, id=field_id, default_value=default_value, rows=rows,
                                     width="100%", spell_check=False, **style),
                 html_for=field_id, hint=hint)


def form_dialog(title: str, *fields: rx.Component, open: rx.Var[bool], on_open_change: Any, on_submit: Any,
                submit_label: str, error: rx.Var[str], description: str | rx.Var[str] = "",
                busy: rx.Var[bool] | bool = False,
                max_width: str = "480px") -> rx.Component:
    """A dialog holding a form. `on_submit` receives the form data (a dict of field name → string)."""
    return rx.dialog.root(
        rx.dialog.content(
            rx.dialog.title(title),
            rx.dialog.description(description, size="2", margin_bottom="12px")
            if isinstance(description, rx.Var) or description else rx.fragment(),
            rx.form(
                rx.vstack(
                    *fields,
                    notice(error),
                    rx.hstack(
                        rx.dialog.close(rx.button("Cancel", variant="soft", color_scheme="gray", type="button")),
                        rx.button(submit_label, type="submit", loading=busy),
                        justify="end", spacing="3", width="100%", padding_top="8px",
                    ),
                    spacing="3", width="100%",
                ),
                on_submit=on_submit,
                reset_on_submit=False,
                # The server checks every field and says in words what is missing; the browser's own
                # bubbles would stop an empty submit before that, in another wording per browser.
                no_validate=True,
            ),
            max_width=max_width,
        ),
        open=open,
        on_open_change=on_open_change,
    )


def confirm_dialog(trigger: rx.Component, *, title: str | rx.Var[str], message: str | rx.Var[str],
                   confirm_label: str, on_confirm: Any) -> rx.Component:
    """An irreversible action behind an "are you sure" dialog."""
    return rx.alert_dialog.root(
        rx.alert_dialog.trigger(trigger),
        rx.alert_dialog.content(
            rx.alert_dialog.title(title),
            rx.alert_dialog.description(message, size="2"),
            rx.hstack(
                rx.alert_dialog.cancel(rx.button("Cancel", variant="soft", color_scheme="gray")),
                rx.alert_dialog.action(rx.button(confirm_label, color_scheme="red", on_click=on_confirm)),
                justify="end", spacing="3", padding_top="12px",
            ),
            max_width="440px",
        ),
    )


def icon_action(icon: str, label: rx.Var[str] | str, *, color_scheme: str = "gray", **props: Any) -> rx.Component:
    """A small icon button; `label` is its accessible name (and what the browser tests click)."""
    return rx.icon_button(rx.icon(icon, size=14), variant="ghost", color_scheme=color_scheme, size="1",
                          title=label, custom_attrs={"aria-label": label}, **props)
