"""UI pieces the console's list pages share: the page frame, the header's create button, a row's edit
and delete actions (each shown only while the user's policy allows it), and the create/edit dialogs
wired to a `vmx_app.state.crud` page state."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import reflex as rx

from vmx_app.components.forms import confirm_dialog, form_dialog, icon_action
from vmx_app.components.layout import console_layout, page_header
from vmx_app.components.tables import notice, requires_selection

if TYPE_CHECKING:
    from vmx_app.state.crud import CrudPageMixin, EditDialogMixin


def list_page(title: str, description: str, create: rx.Component, error: rx.Var[str], table: rx.Component,
              *dialogs: rx.Component, needs: rx.Var[bool] | None = None, needs_hint: str = "",
              needs_action: rx.Component | None = None) -> rx.Component:
    """Header (with the create button), the list's error, the table, then the page's dialogs. With
    `needs`, the table shows only while it holds (a workspace or environment is picked), else `needs_hint`
    and `needs_action` (the button that gets there)."""
    body = table if needs is None else requires_selection(needs, needs_hint, table, action=needs_action)
    return console_layout(page_header(title, description, create), notice(error), body, *dialogs)


def create_button(label: str, visible: rx.Var[bool], *, icon: str = "plus", href: str = "",
                  **props: Any) -> rx.Component:
    """The header's "New …" button; with `href`, a link to the item's editor page."""
    button = rx.button(rx.icon(icon, size=16), label, **props)
    return rx.cond(visible, rx.link(button, href=href) if href else button, rx.fragment())


def first_item_button(label: str, visible: rx.Var[bool], *, href: str = "", test_id: str = "",
                      **props: Any) -> rx.Component:
    """The empty table's call to action: the same as the header's create button, in words."""
    attrs = {"data-testid": test_id} if test_id else {}
    button = rx.button(rx.icon("plus", size=14), label, size="2", custom_attrs=attrs, **props)
    return rx.cond(visible, rx.link(button, href=href) if href else button, rx.fragment())


def edit_action(visible: rx.Var[bool], label: rx.Var[str] | str, on_click: Any) -> rx.Component:
    return rx.cond(visible, icon_action("pencil", label, on_click=on_click), rx.fragment())


def delete_action(visible: rx.Var[bool], label: rx.Var[str] | str, *, title: str | rx.Var[str],
                  message: str | rx.Var[str], confirm_label: str, on_confirm: Any,
                  icon: str = "trash_2") -> rx.Component:
    """A red icon button that asks before it deletes (or removes) the row."""
    return rx.cond(visible,
                   confirm_dialog(icon_action(icon, label, color_scheme="red"), title=title, message=message,
                                  confirm_label=confirm_label, on_confirm=on_confirm),
                   rx.fragment())


def create_dialog(state: type[CrudPageMixin], title: str, *fields: rx.Component, on_submit: Any,
                  submit_label: str = "Create", description: str | rx.Var[str] = "",
                  open: rx.Var[bool] | None = None) -> rx.Component:
    """The page's create dialog; `open` replaces `state.create_open` where more decides it."""
    return form_dialog(title, *fields, open=state.create_open if open is None else open,
                       on_open_change=state.set_create_open, on_submit=on_submit, submit_label=submit_label,
                       error=state.form_error, description=description)


def edit_dialog(state: type[EditDialogMixin], title: str, *fields: rx.Component, on_submit: Any,
                submit_label: str = "Save", description: str | rx.Var[str] = "") -> rx.Component:
    return form_dialog(title, *fields, open=state.edit_open, on_open_change=state.set_edit_open,
                       on_submit=on_submit, submit_label=submit_label, error=state.form_error,
                       description=description)
