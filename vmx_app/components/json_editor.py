"""A JSON text editor: monospace text area plus the parse error, if any, right under it."""

from __future__ import annotations

from typing import Any

import reflex as rx


def json_editor(value: rx.Var, *, on_change: Any, element_id: str, error: rx.Var | str = "", rows: str = "12",
                read_only: rx.Var | bool = False, placeholder: str = "{}", on_blur: Any = None,
                label: str = "") -> rx.Component:
    """`error` shows under the text (id `<element_id>-error`) while it is not empty; the state clears it as soon
    as the text parses again. `on_blur` checks the text when it is left; `label` is its accessible name."""
    props: dict[str, Any] = {"on_blur": on_blur} if on_blur is not None else {}
    attrs: dict[str, Any] = {"aria-invalid": rx.cond(error != "", "true", "false")}
    if label:
        attrs["aria-label"] = label
    return rx.vstack(
        rx.text_area(value=value, on_change=on_change, id=element_id, rows=rows, placeholder=placeholder,
                     font_family="var(--code-font-family, monospace)", font_size="13px", spell_check=False,
                     width="100%", disabled=read_only, custom_attrs=attrs, **props),
        rx.cond(error != "", rx.callout(error, icon="triangle_alert", color_scheme="red", size="1", width="100%",
                                        id=f"{element_id}-error", role="alert"),
                rx.fragment()),
        spacing="2", width="100%",
    )
