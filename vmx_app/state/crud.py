"""State mixins shared by the console's list pages.

Reflex copies a mixin's vars and event handlers into every state that lists it, so each page keeps
its own values. A page state names the mixin first and its parent state after it (a state whose bases
are all mixins is a mixin itself), and declares its own typed `rows` (the row dataclass differs per page):

    class EnvironmentsState(EditDialogMixin, WorkspaceState):
        rows: list[EnvironmentRow] = []

        async def _refresh(self, principal: Principal) -> None: ...

- `ListPageMixin`: what every table page has: `load` (sign-in check, then the page's `_refresh`).
- `CrudPageMixin`: a table read again after every change, with a create dialog.
- `EditDialogMixin`: the same with an edit dialog for one row.
- `InPlaceListMixin`: a table whose delete drops the row without a reload (model pricing).
- `EnvModuleListMixin`: that table for one module of the current environment (AI connections, resources).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any, ClassVar

import reflex as rx
from pydantic import ValidationError
from reflex.event import EventSpec
from sqlmodel import SQLModel
from sqlmodel.ext.asyncio.session import AsyncSession

from vmx_app.auth.authorization import Principal
from vmx_app.errors import DomainError
from vmx_app.models import Environment
from vmx_app.services import module_admin
from vmx_app.state.access import allowed
from vmx_app.state.field_check import FieldCheckMixin
from vmx_app.state.messages import error_text
from vmx_app.state.session import login_redirect

# Does one change for the signed-in principal; returns the success toast's text (None: no toast).
Change = Callable[[Principal], Awaitable[str | None]]
# Deletes one row for the signed-in principal (a service use case); returns the success toast's text.
Removal = Callable[[Principal], Awaitable[str]]


if TYPE_CHECKING:
    # For type checkers: the members the page's parent state provides (the principal, the selection). At run
    # time the mixins are plain `rx.State` mixins, as Reflex documents them.
    from vmx_app.state.workspace import WorkspaceState as _PageBase
else:
    _PageBase = rx.State


class ListPageMixin(_PageBase, mixin=True):
    """A table page: its on_load signs the user in (or redirects) and reads the rows."""

    can_create: bool = False
    list_error: str = ""  # why the table is empty (no permission, no such workspace)

    async def _refresh(self, principal: Principal) -> None:
        """Read the switcher, the page's rows and permissions; every page defines it."""
        raise NotImplementedError

    @rx.event
    async def load(self) -> EventSpec | None:
        principal = await self.principal_or_redirect()
        if not isinstance(principal, Principal):
            return principal
        await self._refresh(principal)
        return None


class CrudPageMixin(FieldCheckMixin, ListPageMixin, mixin=True):
    """A table that is read again after each change, and the dialog that creates a row. Its fields are
    checked as they are filled (`FieldCheckMixin`: `FIELD_SCHEMAS` per dialog)."""

    form_error: str = ""  # why the open dialog's save was refused; the dialog stays open
    # The fields the page's dialogs show; errors about others stay in the banner.
    FORM_FIELDS: ClassVar[frozenset[str]] = frozenset()
    create_open: bool = False

    @rx.event
    def set_create_open(self, value: bool) -> None:
        self.create_open = value
        self.form_error = ""
        self.field_errors = {}

    async def _save_form(self, change: Change) -> EventSpec | None:
        """A dialog's submit: a refusal stays in the dialog; success (the change closes the dialog
        itself) reloads the table and toasts."""
        principal = await self.current_principal()
        if principal is None:
            return login_redirect()
        try:
            message = await change(principal)
        except (DomainError, ValidationError) as exc:
            self._refused(exc)
            return None
        self.field_errors = {}
        await self._refresh(principal)
        return rx.toast.success(message) if message is not None else None

    def _refused(self, exc: DomainError | ValidationError) -> None:
        """Errors about fields the form shows go next to them, in plain words; the rest (and a refusal
        that names no field) in the dialog's banner. Nothing is said twice."""
        self.form_error = self._place_refusal(exc, self.FORM_FIELDS, error_text(exc))

    async def _change_row(self, change: Change,
                          errors: tuple[type[Exception], ...] = (DomainError,)) -> EventSpec | None:
        """A row's one-click change (delete, toggle): the table is read again whatever happened, so it
        never shows a stale row; the toast says how it went."""
        principal = await self.current_principal()
        if principal is None:
            return login_redirect()
        try:
            message = await change(principal)
        except errors as exc:
            await self._refresh(principal)
            return rx.toast.error(error_text(exc))
        await self._refresh(principal)
        return rx.toast.success(message) if message is not None else None


class EditDialogMixin(CrudPageMixin, mixin=True):
    """`CrudPageMixin` plus the dialog that edits the row `edit_id`."""

    edit_open: bool = False
    edit_id: str = ""

    @rx.event
    def set_edit_open(self, value: bool) -> None:
        self.edit_open = value
        self.form_error = ""
        self.field_errors = {}

    @rx.event
    def start_edit(self, item_id: str) -> None:
        self.edit_id = item_id
        self.form_error = ""
        self.field_errors = {}
        self.edit_open = True


class InPlaceListMixin(ListPageMixin, mixin=True):
    """A table whose delete drops the row in place; a refusal shows above the table."""

    can_delete: bool = False
    if TYPE_CHECKING:
        rows: list[Any]  # declared by each page with its own row type

    async def _delete_listed(self, item_id: str, remove: Removal) -> EventSpec | None:
        principal = await self.current_principal()
        if principal is None:
            return login_redirect()
        try:
            message = await remove(principal)
        except DomainError as exc:
            self.list_error = error_text(exc)
            return None
        self.rows = [r for r in self.rows if r.id != item_id]
        return rx.toast.success(message)


class EnvModuleListMixin(InPlaceListMixin, mixin=True):
    """The items of one module (`MODULE`, stored as `MODEL`) in the current environment."""

    MODULE: ClassVar[str]
    MODEL: ClassVar[type[SQLModel]]
    NOUN: ClassVar[str]  # "Connection": the delete toast's first word

    async def _list_rows(self, session: AsyncSession, environment: Environment) -> list[Any]:
        """The environment's items as table rows; every page defines it."""
        raise NotImplementedError

    async def _delete_row(self, session: AsyncSession, row: Any) -> None:
        """Delete one item (its scope and permission are checked already); every page defines it."""
        raise NotImplementedError

    async def _refresh(self, principal: Principal) -> None:
        await self.load_context(principal)
        self.list_error = ""
        self.rows = []
        self.can_create = self.can_delete = False
        if not self.environment_id:
            return
        module = self.MODULE
        try:
            base, self.rows = await module_admin.list_in_environment_as(
                principal, self.workspace_id, self.environment_id, module, self._list_rows)
        except DomainError as exc:
            self.list_error = error_text(exc)
            return
        self.can_create = allowed(principal, f"{module}:create", base)
        self.can_delete = allowed(principal, f"{module}:delete", f"{base}:*")

    @rx.event
    async def delete(self, item_id: str) -> EventSpec | None:
        async def remove(principal: Principal) -> str:
            name = await module_admin.delete_in_environment_as(principal, self.workspace_id, self.environment_id,
                                                               item_id, self.MODULE, self.MODEL, self._delete_row)
            return f"{self.NOUN} {name} deleted"

        return await self._delete_listed(item_id, remove)
