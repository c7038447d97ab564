"""Copyable text: a value with a copy button, a code block, and the tabs of ready-to-run snippets
(`vmx_app.services.connect_snippets`) shown by the Connect page and the API-key-created dialog."""

from __future__ import annotations

from typing import Any

import reflex as rx

CODE_STYLE = {
    "font_family": "var(--code-font-family, ui-monospace, monospace)", "font_size": "12.5px",
    "white_space": "pre", "overflow_x": "auto", "margin": "0", "padding": "12px",
    "background": rx.color("gray", 2), "border": f"1px solid {rx.color('gray', 5)}", "border_radius": "6px",
}


def copy_button(value: rx.Var[str] | str, label: rx.Var[str] | str, *, test_id: rx.Var[str] | str = "",
                toast: str = "Copied") -> rx.Component:
    """An icon button that puts `value` on the clipboard; `label` is its accessible name."""
    attrs: dict[str, Any] = {"aria-label": label}
    if isinstance(test_id, rx.Var) or test_id:
        attrs["data-testid"] = test_id
    return rx.icon_button(rx.icon("copy", size=14), variant="soft", size="2", title=label,
                          on_click=[rx.set_clipboard(value), rx.toast.info(toast)], custom_attrs=attrs)


def copy_row(label: rx.Var[str] | str, value: rx.Var[str], *, hint: rx.Var[str] | str = "",
             test_id: rx.Var[str] | str = "") -> rx.Component:
    """One labelled value (a URL, an id) in monospace with its copy button."""
    return rx.hstack(
        rx.vstack(rx.text(label, size="2", weight="medium"),
                  rx.text(hint, size="1", color=rx.color("gray", 10)), spacing="0", min_width="190px"),
        rx.code(value, size="2", variant="ghost", style={"word_break": "break-all"}, flex="1",
                custom_attrs={"data-testid": test_id} if isinstance(test_id, rx.Var) or test_id else {}),
        copy_button(value, "Copy " + label if isinstance(label, str) else "Copy " + label),
        align="center", spacing="3", width="100%", wrap="wrap",
    )


def code_block(code: rx.Var[str], *, test_id: rx.Var[str] | str = "") -> rx.Component:
    attrs: dict[str, Any] = {"data-testid": test_id} if isinstance(test_id, rx.Var) or test_id else {}
    # Focusable: a long line scrolls sideways, and keyboard users must be able to scroll it too.
    return rx.el.pre(rx.el.code(code), style=CODE_STYLE, width="100%", tab_index=0, custom_attrs=attrs)


def snippet_tabs(snippets: rx.Var[list[Any]], *, prefix: str) -> rx.Component:
    """One tab per snippet (`Snippet` rows: id, label, code) with a copy button; test ids are
    `{prefix}-{snippet id}` for the code and `{prefix}-copy-{snippet id}` for the button."""
    return rx.tabs.root(
        rx.tabs.list(rx.foreach(snippets, lambda s: rx.tabs.trigger(s.label, value=s.id)), wrap="wrap"),
        rx.foreach(snippets, lambda s: rx.tabs.content(
            rx.vstack(
                rx.hstack(rx.spacer(),
                          copy_button(s.code, "Copy " + s.label + " snippet", test_id=f"{prefix}-copy-" + s.id),
                          width="100%"),
                code_block(s.code, test_id=f"{prefix}-" + s.id),
                spacing="2", width="100%", padding_top="8px",
            ),
            value=s.id,
        )),
        default_value="python-openai", width="100%",
    )
